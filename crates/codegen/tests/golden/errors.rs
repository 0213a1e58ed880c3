//! Every error the generator reports, each from a minimal spec: the variant, the exact JSON
//! pointer, and guidance on what to write instead. The rendered messages are a golden file,
//! `tests/output/errors.txt`, so that their wording is reviewed like code.

use std::fmt::Write as _;
use std::path::Path;

use codegen::{Position, SpecError};

use crate::common::run;

/// The label every inline spec is loaded under.
const LABEL: &str = "spec.yaml";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Breaks a rule of OpenAPI (or of YAML-as-JSON).
    Invalid,
    /// Valid OpenAPI that the generator cannot express; carries a hint.
    Unsupported,
}

struct Case {
    name: &'static str,
    /// The whole spec (a leading newline is dropped, so line 1 is the raw string's first line).
    yaml: &'static str,
    kind: Kind,
    /// Exactly what `SpecError::pointer` returns.
    pointer: &'static str,
    /// Text the hint (for `Unsupported`) or the message (for `Invalid`) contains: what to write
    /// instead, or what was expected.
    guidance: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "document_not_a_mapping",
        yaml: "- openapi\n- 3.0.3\n",
        kind: Kind::Invalid,
        pointer: "#",
        guidance: "must be a mapping",
    },
    Case {
        name: "key_not_representable_as_json",
        yaml: "openapi: 3.0.3\n~: a null key\n",
        kind: Kind::Invalid,
        pointer: "#",
        guidance: "key must be a string",
    },
    Case {
        name: "openapi_3_2",
        yaml: r"
openapi: 3.2.0
info: {title: T, version: '1'}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/openapi",
        guidance: "write `openapi: 3.0.3`",
    },
    Case {
        name: "openapi_3_1_tuple",
        yaml: r"
openapi: 3.1.0
info: {title: T, version: '1'}
components:
  schemas:
    Pair:
      type: array
      prefixItems:
        - type: string
",
        kind: Kind::Unsupported,
        pointer: "#/components/schemas/Pair/prefixItems",
        guidance: "one `items` schema",
    },
    Case {
        name: "openapi_version_missing",
        yaml: r"
info: {title: T, version: '1'}
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/openapi",
        guidance: "expected `openapi: 3.0.3`",
    },
    Case {
        name: "paths_not_a_mapping",
        yaml: r"
openapi: 3.0.3
info:
  title: T
  version: '1'
paths: 5
",
        kind: Kind::Invalid,
        pointer: "#/paths",
        guidance: "expected struct Paths",
    },
    Case {
        name: "unknown_parameter_location",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: token
          in: body
          schema:
            type: string
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/in",
        guidance: "expected one of `query`, `header`, `path`, `cookie`",
    },
    Case {
        name: "parameter_without_schema",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: token
          in: query
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0",
        guidance: "ParameterSchemaOrContent",
    },
    Case {
        name: "operation_without_responses",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get",
        guidance: "missing field `responses`",
    },
    Case {
        name: "path_item_ref",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    $ref: '#/components/x-paths/a'
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/$ref",
        guidance: "write the path item inline",
    },
    Case {
        name: "operation_ids_with_one_rust_name",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getThing
      responses:
        '204':
          description: ok
  /b:
    get:
      operationId: get_thing
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1b/get/operationId",
        guidance: "give one of them another `operationId`",
    },
    Case {
        name: "path_parameter_not_declared",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a/{id}:
    get:
      operationId: getA
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a~1{id}/get",
        guidance: "declare it under `parameters`",
    },
    Case {
        name: "path_parameter_not_in_the_path",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0",
        guidance: "add `{id}` to the path",
    },
    Case {
        name: "cookie_parameter",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: session
          in: cookie
          schema:
            type: string
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/get/parameters/0/in",
        guidance: "pass the value in a header or query parameter",
    },
    Case {
        name: "parameter_with_content",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: filter
          in: query
          content:
            application/json:
              schema:
                type: object
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/get/parameters/0/content",
        guidance: "describe the parameter with `schema`",
    },
    Case {
        name: "optional_path_parameter",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a/{id}:
    get:
      operationId: getA
      parameters:
        - name: id
          in: path
          required: false
          schema:
            type: string
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a~1{id}/get/parameters/0/required",
        guidance: "must be `required: true`",
    },
    Case {
        name: "object_parameter",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: filter
          in: query
          schema:
            type: object
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/get/parameters/0/schema/type",
        guidance: "use a string, integer, number or boolean",
    },
    Case {
        name: "array_of_arrays_query_parameter",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: id
          in: query
          schema:
            type: array
            items:
              type: array
              items:
                type: string
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/get/parameters/0/schema/items/type",
        guidance: "use a string, integer, number or boolean",
    },
    Case {
        name: "parameter_ref_to_an_object_schema",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: filter
          in: query
          schema:
            $ref: '#/components/schemas/Filter'
      responses:
        '204':
          description: ok
components:
  schemas:
    Filter:
      type: object
",
        kind: Kind::Unsupported,
        pointer: "#/components/schemas/Filter/type",
        guidance: "object parameters (`deepObject`, exploded forms) are not generated",
    },
    Case {
        name: "array_parameter_without_items",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: id
          in: query
          schema:
            type: array
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema",
        guidance: "has no `items`",
    },
    Case {
        name: "parameter_default_of_another_type",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
            default: ten
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is not an integer",
    },
    Case {
        name: "parameter_default_outside_int32",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
            format: int32
            default: 3000000000
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "does not fit the parameter's Rust type `i32`",
    },
    Case {
        name: "parameter_default_above_the_maximum",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - $ref: '#/components/parameters/Limit'
      responses:
        '204':
          description: ok
components:
  parameters:
    Limit:
      name: limit
      in: query
      schema:
        type: integer
        minimum: 1
        maximum: 100
        default: 1000
",
        kind: Kind::Invalid,
        pointer: "#/components/parameters/Limit/schema/default",
        guidance: "is above the maximum 100",
    },
    Case {
        name: "parameter_default_too_long",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: q
          in: query
          schema:
            type: string
            maxLength: 3
            default: abcd
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is longer than its `maxLength` 3",
    },
    Case {
        name: "parameter_default_outside_the_enum",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: order
          in: query
          schema:
            type: string
            enum: [asc, desc]
            default: up
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is not one of the enum values [\"asc\",\"desc\"]",
    },
    Case {
        name: "parameter_default_outside_a_referenced_enum",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: size
          in: query
          schema:
            $ref: '#/components/schemas/Size'
            default: XL
      responses:
        '204':
          description: ok
components:
  schemas:
    Size:
      type: string
      enum: [S, M, L]
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is not one of the enum values",
    },
    Case {
        name: "parameter_default_not_a_uuid",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: storeId
          in: query
          schema:
            type: string
            format: uuid
            default: main
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is not a UUID",
    },
    Case {
        name: "parameter_default_not_a_date_time",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: since
          in: query
          schema:
            type: string
            format: date-time
            default: '2024-02-30T00:00:00Z'
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is not an RFC 3339 date-time",
    },
    Case {
        name: "parameter_default_null",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: active
          in: query
          schema:
            type: boolean
            nullable: true
            default: null
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "is not a boolean",
    },
    Case {
        name: "array_parameter_default_with_a_bad_item",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - name: id
          in: query
          schema:
            type: array
            items:
              type: integer
              minimum: 1
            default: [1, 0]
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/schema/default",
        guidance: "has an item 0 that is below the minimum 1",
    },
    Case {
        name: "operations_with_one_generated_item_name",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      responses:
        '204':
          description: ok
          headers:
            X-Trace:
              schema: {type: string}
  /b:
    get:
      operationId: getAResponse
      parameters:
        - {name: X-Trace, in: header, schema: {type: string}}
      responses:
        '204': {description: ok}
components:
  schemas:
    Error:
      type: object
      properties:
        code: {type: string}
        message: {type: string}
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1b/get/operationId",
        guidance: "so that their generated names differ",
    },
    Case {
        name: "unresolvable_parameter_ref",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - $ref: '#/components/parameters/Limit'
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/$ref",
        guidance: "does not resolve",
    },
    Case {
        name: "unresolvable_schema_ref",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Missing'
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/responses/200/content/application~1json/schema/$ref",
        guidance: "does not resolve",
    },
    Case {
        name: "unresolvable_ref_inside_a_schema",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths: {}
components:
  schemas:
    Error:
      type: object
      required: [code, message]
      properties:
        code:
          type: string
        message:
          type: string
        details:
          type: array
          items:
            $ref: '#/components/schemas/ErrorDetail'
",
        kind: Kind::Invalid,
        pointer: "#/components/schemas/Error/properties/details/items/$ref",
        guidance: "`#/components/schemas/ErrorDetail` does not resolve",
    },
    Case {
        name: "non_local_ref",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - $ref: 'common.yaml#/components/parameters/Limit'
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/get/parameters/0/$ref",
        guidance: "move the referenced definition into this document",
    },
    Case {
        name: "reference_cycle",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - $ref: '#/components/parameters/A'
      responses:
        '204':
          description: ok
components:
  parameters:
    A:
      $ref: '#/components/parameters/B'
    B:
      $ref: '#/components/parameters/A'
",
        kind: Kind::Invalid,
        pointer: "#/components/parameters/B/$ref",
        guidance: "reference cycle: #/components/parameters/A -> #/components/parameters/B -> \
                   #/components/parameters/A",
    },
    Case {
        name: "swagger_2",
        yaml: r"
swagger: '2.0'
info: {title: T, version: '1'}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/swagger",
        guidance: "convert it to OpenAPI 3.0 first",
    },
    Case {
        name: "openapi_version_not_a_string",
        yaml: r"
openapi: 3.0
info: {title: T, version: '1'}
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/openapi",
        guidance: "must be a version string",
    },
    Case {
        name: "integer_beyond_64_bits",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths: {}
components:
  schemas:
    Big:
      type: integer
      maximum: 99999999999999999999
",
        kind: Kind::Invalid,
        pointer: "#/components/schemas/Big/maximum",
        guidance: "outside the 64-bit range",
    },
    Case {
        name: "not_a_number",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths: {}
components:
  schemas:
    Name:
      type: string
      maxLength: .nan
",
        kind: Kind::Invalid,
        pointer: "#/components/schemas/Name/maxLength",
        guidance: "not a finite number",
    },
    Case {
        name: "duplicate_key",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths: {}
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/paths",
        guidance: "duplicate key `paths`",
    },
    Case {
        name: "path_without_a_slash",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  pets:
    get:
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/pets",
        guidance: "does not start with `/`",
    },
    Case {
        name: "undefined_security_scheme",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
security:
  - apiKey: []
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/security/0/apiKey",
        guidance: "which `components/securitySchemes` does not define",
    },
    Case {
        name: "derived_operation_ids_with_one_rust_name",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a-b:
    get:
      responses:
        '204':
          description: ok
  /a_b:
    get:
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a_b/get",
        guidance: "give one of them another `operationId`",
    },
    Case {
        name: "literal_segment_beside_a_variable",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /pets/mine:
    get:
      responses:
        '204':
          description: ok
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1pets~1{petId}",
        guidance: "dropshot issue #199",
    },
    Case {
        name: "one_variable_with_two_names",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /pets/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '204':
          description: ok
  /pets/{petId}/toys:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1pets~1{petId}~1toys",
        guidance: "a variable by one name",
    },
    Case {
        name: "variable_within_a_segment",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /files/{name}.json:
    get:
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}}
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1files~1{name}.json",
        guidance: "make the variable its own segment",
    },
    Case {
        name: "success_bodies_of_two_shapes",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    put:
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {type: object}
        '204':
          description: updated
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a/put/responses/204",
        guidance: "one success type",
    },
    Case {
        name: "array_parameter_in_label_style",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a/{ids}:
    get:
      parameters:
        - name: ids
          in: path
          required: true
          style: label
          schema: {type: array, items: {type: string}}
      responses:
        '204':
          description: ok
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1a~1{ids}/get/parameters/0/style",
        guidance: "`label` and `matrix` are not generated",
    },
    Case {
        name: "response_status_not_a_status",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
        '99':
          description: what
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/responses/99",
        guidance: "is not a response status",
    },
    Case {
        name: "websocket_with_a_body",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /ws:
    post:
      x-dropshot-websocket: {}
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '101':
          description: upgrade
",
        kind: Kind::Unsupported,
        pointer: "#/paths/~1ws/post/requestBody",
        guidance: "send the data over the websocket",
    },
    Case {
        name: "header_parameter_not_a_header_name",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      parameters:
        - {name: 'x header', in: header, schema: {type: string}}
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/parameters/0/name",
        guidance: "is not a valid HTTP header name",
    },
    Case {
        name: "conventions_key_header_not_text",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-conventions:
  idempotency:
    key-header: 5
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/x-conventions/idempotency/key-header",
        guidance: "must be a non-empty string",
    },
    Case {
        name: "conventions_paging_items_not_a_pointer",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-conventions:
  paging: {limit: limit, offset: offset, items: data, total: /total}
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/x-conventions/paging/items",
        guidance: "JSON pointer",
    },
    Case {
        name: "webhooks_not_a_map",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks: [ping]
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/x-webhooks",
        guidance: "map from webhook names to path items",
    },
    Case {
        name: "webhook_name_not_a_path_segment",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  order/created:
    post:
      responses:
        '204': {description: ok}
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/x-webhooks/order~1created",
        guidance: "letters, digits and",
    },
    Case {
        name: "webhook_delivered_with_get",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  ping:
    get:
      responses:
        '204': {description: ok}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-webhooks/ping/get",
        guidance: "as the path item's `post`",
    },
    Case {
        name: "webhook_without_a_body",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  ping:
    post:
      operationId: ping
      responses:
        '204': {description: ok}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-webhooks/ping/post",
        guidance: "`application/json` content and its schema",
    },
    Case {
        name: "webhook_with_a_query_parameter",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  ping:
    post:
      operationId: ping
      parameters:
        - {name: tenant, in: query, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '204': {description: ok}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-webhooks/ping/post/parameters/0",
        guidance: "in the event body",
    },
    Case {
        name: "webhook_without_the_signature_header",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-conventions:
  webhook-signature: {header: X-Signature, scheme: hmac-sha256}
x-webhooks:
  ping:
    post:
      operationId: ping
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '204': {description: ok}
paths: {}
",
        kind: Kind::Invalid,
        pointer: "#/x-webhooks/ping/post",
        guidance: "document it as a required header parameter",
    },
    Case {
        name: "webhook_signature_scheme_unknown",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-conventions:
  webhook-signature: {header: X-Signature, scheme: ed25519}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-conventions/webhook-signature/scheme",
        guidance: "write `scheme: hmac-sha256`",
    },
    Case {
        name: "webhook_with_an_error_response",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  ping:
    post:
      operationId: ping
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '204': {description: ok}
        '400': {description: refused}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-webhooks/ping/post/responses/400",
        guidance: "remove the error response",
    },
    Case {
        name: "webhook_acknowledged_with_two_statuses",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  ping:
    post:
      operationId: ping
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '200': {description: ok}
        '204': {description: ok}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-webhooks/ping/post/responses",
        guidance: "document the acknowledgement",
    },
    Case {
        name: "webhook_acknowledgement_header_not_text",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-webhooks:
  ping:
    post:
      operationId: ping
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        '204':
          description: ok
          headers:
            X-Count: {schema: {type: integer}}
paths: {}
",
        kind: Kind::Unsupported,
        pointer: "#/x-webhooks/ping/post/responses/204/headers/X-Count",
        guidance: "`schema: {type: string}`",
    },
    Case {
        name: "paged_list_without_the_paging_convention",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    get:
      operationId: listA
      x-paged: true
      responses:
        '204':
          description: ok
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/x-paged",
        guidance: "x-conventions.paging",
    },
    Case {
        name: "paged_list_without_its_limit",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-conventions:
  paging: {limit: limit, offset: offset, items: /items, total: /total}
paths:
  /a:
    get:
      operationId: listA
      x-paged: true
      parameters:
        - {name: offset, in: query, schema: {type: integer}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: '#/components/schemas/A'}}
                  total: {type: integer}
components:
  schemas:
    A: {type: object}
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/x-paged",
        guidance: "the query parameter `limit`",
    },
    Case {
        name: "paged_list_without_an_array_of_items",
        yaml: r"
openapi: 3.0.3
info: {title: T, version: '1'}
x-conventions:
  paging: {limit: limit, offset: offset, items: /items, total: /total}
paths:
  /a:
    get:
      operationId: listA
      x-paged: true
      parameters:
        - {name: offset, in: query, schema: {type: integer}}
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  total: {type: integer}
",
        kind: Kind::Invalid,
        pointer: "#/paths/~1a/get/x-paged",
        guidance: "an array of a named schema",
    },
];

/// Loads and generates `yaml`, which must fail.
fn error(yaml: &str) -> SpecError {
    match run(LABEL, yaml.strip_prefix('\n').unwrap_or(yaml)) {
        Ok(_) => panic!("expected an error from:\n{yaml}"),
        Err(error) => error,
    }
}

fn case(name: &str) -> &'static Case {
    CASES
        .iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// Checks one case, returning what is wrong with the error it gives.
fn check(case: &Case) -> Result<SpecError, String> {
    let error = error(case.yaml);
    let guidance = match (&error, case.kind) {
        (SpecError::Invalid { message, .. }, Kind::Invalid) => message,
        (SpecError::Unsupported { hint, .. }, Kind::Unsupported) => hint,
        (other, _) => {
            return Err(format!(
                "{}: expected {:?}, got {other:?}",
                case.name, case.kind
            ));
        }
    };
    if error.pointer() != Some(case.pointer) {
        return Err(format!(
            "{}: pointer {:?}, expected {:?}",
            case.name,
            error.pointer(),
            case.pointer
        ));
    }
    if !guidance.contains(case.guidance) {
        return Err(format!(
            "{}: {guidance:?} does not contain {:?}",
            case.name, case.guidance
        ));
    }
    if case.kind == Kind::Unsupported && !error.to_string().contains("\n  hint: ") {
        return Err(format!("{}: the message shows no hint: {error}", case.name));
    }
    Ok(error)
}

#[test]
fn every_case_fails_with_its_pointer_and_guidance() {
    let failures: Vec<String> = CASES.iter().filter_map(|case| check(case).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|case| case.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len());
}

/// The messages as a user sees them, one case after another.
#[test]
fn messages_match_the_golden_file() {
    let mut text = String::new();
    let syntax = error(SYNTAX_ERROR);
    writeln!(text, "== yaml_syntax_error ==\n{syntax}\n").unwrap();
    for case in CASES {
        writeln!(text, "== {} ==\n{}\n", case.name, error(case.yaml)).unwrap();
    }
    expectorate::assert_contents("tests/output/errors.txt", &text);
}

const SYNTAX_ERROR: &str = r"
openapi: 3.0.3
info:
  title: T
  version: [1
paths: {}
";

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    let error = error(SYNTAX_ERROR);
    let SpecError::Syntax {
        path,
        line,
        column,
        message,
    } = &error
    else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(path, Path::new(LABEL));
    // The flow sequence `[1` swallows the next line, where `:` is the first thing it cannot take.
    assert_eq!((*line, *column), (5, 6), "{message}");
    assert_eq!(error.pointer(), None);
    assert_eq!(error.position(), Some(Position { line: 5, column: 6 }));
    let shown = error.to_string();
    assert!(
        shown.starts_with("spec.yaml:5:6: YAML syntax error: "),
        "{shown}"
    );
    assert!(
        !shown.contains("at line 5 column 6"),
        "the location is printed once, up front: {shown}"
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let path = crate::common::crate_dir().join("tests/corpus/no-such-spec.yaml");
    let error = codegen::load(&path).expect_err("the file does not exist");
    let SpecError::Io {
        path: named,
        source,
    } = &error
    else {
        panic!("expected an I/O error, got {error:?}");
    };
    assert_eq!(named, &path);
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error
            .to_string()
            .contains("no-such-spec.yaml: cannot read: "),
        "{error}"
    );
}

/// A located node is shown as `file:line:column (#/pointer)`.
#[test]
fn errors_show_the_line_and_column_of_the_node() {
    let error = check(case("cookie_parameter")).unwrap();
    assert_eq!(
        error.position(),
        Some(Position {
            line: 9,
            column: 11
        })
    );
    let shown = error.to_string();
    assert!(
        shown.starts_with("spec.yaml:9:11 (#/paths/~1a/get/parameters/0/in): cookie parameter `session` is not supported\n  hint: "),
        "{shown}"
    );

    // The node a `$ref` leads to is located where it is defined.
    let error = check(case("parameter_ref_to_an_object_schema")).unwrap();
    assert_eq!(
        error.position(),
        Some(Position {
            line: 18,
            column: 7
        })
    );

    // A node moved by the generator (an inline schema made a component) is reported where
    // the designer wrote it.
    let yaml = r"openapi: 3.0.3
info: {title: T, version: '1'}
paths:
  /a:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                ids:
                  type: array
                  items:
                    $ref: '#/components/schemas/Missing'
      responses:
        '204':
          description: ok
";
    let error = crate::common::run(LABEL, yaml).unwrap_err();
    assert_eq!(
        error.pointer(),
        Some(
            "#/paths/~1a/post/requestBody/content/application~1json/schema/properties/ids/items/$ref"
        ),
        "{error}"
    );
    assert_eq!(
        error.position(),
        Some(Position {
            line: 15,
            column: 21
        }),
        "{error}"
    );

    // JSON documents are located too.
    let json = r#"{
  "openapi": "3.0.3",
  "info": {"title": "T", "version": "1"},
  "paths": {"/a": {"get": {"parameters": [{"name": "s", "in": "cookie", "schema": {"type": "string"}}],
    "responses": {"204": {"description": "ok"}}}}}
}"#;
    let spec = codegen::load_str(Path::new("spec.json"), json).unwrap();
    let error = codegen::generate(&spec, &crate::common::settings("spec.json")).unwrap_err();
    assert_eq!(error.pointer(), Some("#/paths/~1a/get/parameters/0/in"));
    assert_eq!(
        error.position(),
        Some(Position {
            line: 4,
            column: 57
        }),
        "{error}"
    );
}

/// A node that is not in the text (or not in block style) is named by its pointer alone.
#[test]
fn errors_without_a_located_node_show_the_pointer() {
    let error = check(case("openapi_version_missing")).unwrap();
    assert_eq!(error.position(), None);
    assert!(
        error
            .to_string()
            .starts_with("spec.yaml#/openapi: missing `openapi` version string"),
        "{error}"
    );
}
