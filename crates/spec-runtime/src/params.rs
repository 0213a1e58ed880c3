//! Query and header parameter sets.

use dropshot::{
    ApiEndpointBodyContentType, ExtractorMetadata, HttpError, RequestContext, ServerContext,
    SharedExtractor,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Detail, Rejection, validate};

/// Where a parameter set's values come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
}

/// A generated struct holding the query or header parameters of one operation.
///
/// Its `JsonSchema` (one property per parameter) is what dropshot's `Query`/`Header` extractors
/// would describe, so the metadata is borrowed from them; parsing is ours, so that every bad
/// parameter is named and repeatable query parameters work.
pub trait ParamSet:
    DeserializeOwned + schemars::JsonSchema + Sized + Send + Sync + 'static
{
    /// Where the values come from.
    const LOCATION: ParamLocation;
    /// Parses the parameters; problems are recorded on the reader, not returned.
    fn parse(reader: &mut ParamReader) -> Option<Self>;
}

/// Extractor for a [`ParamSet`]. It never fails the request: [`Params::into_inner`] returns
/// the parsed set or a [`Rejection`] naming every bad parameter, so the handler can check
/// authentication first.
#[derive(Debug)]
pub struct Params<T>(Result<T, Rejection>);

impl<T> Params<T> {
    /// The parsed parameters, or why they were rejected.
    pub fn into_inner(self) -> Result<T, Rejection> {
        self.0
    }
}

#[async_trait::async_trait]
impl<T: ParamSet> SharedExtractor for Params<T> {
    async fn from_request<C: ServerContext>(rqctx: &RequestContext<C>) -> Result<Self, HttpError> {
        let mut reader = ParamReader {
            path: Vec::new(),
            query: Vec::new(),
            headers: http::HeaderMap::new(),
            details: Vec::new(),
        };
        match T::LOCATION {
            ParamLocation::Path => {
                // Dropshot has matched and decoded the path variables; take them as text.
                let variables =
                    dropshot::Path::<std::collections::BTreeMap<String, String>>::from_request(
                        rqctx,
                    )
                    .await?;
                reader.path = variables.into_inner().into_iter().collect();
            }
            ParamLocation::Query => {
                let query = rqctx.request.uri().query().unwrap_or_default();
                match serde_urlencoded::from_str::<Vec<(String, String)>>(query) {
                    Ok(pairs) => reader.query = pairs,
                    Err(error) => {
                        return Ok(Params(Err(Rejection::malformed(format!(
                            "query string is not form-urlencoded: {error}"
                        )))));
                    }
                }
            }
            ParamLocation::Header => reader.headers = rqctx.request.headers().clone(),
        }
        let parsed = T::parse(&mut reader);
        Ok(Params(match (parsed, reader.details.is_empty()) {
            (Some(value), true) => Ok(value),
            _ => Err(Rejection::validation(reader.details)),
        }))
    }

    fn metadata(body_content_type: ApiEndpointBodyContentType) -> ExtractorMetadata {
        match T::LOCATION {
            ParamLocation::Path => {
                <dropshot::Path<T> as SharedExtractor>::metadata(body_content_type)
            }
            ParamLocation::Query => {
                <dropshot::Query<T> as SharedExtractor>::metadata(body_content_type)
            }
            ParamLocation::Header => {
                <dropshot::Header<T> as SharedExtractor>::metadata(body_content_type)
            }
        }
    }
}

/// Values as they come off the wire, with the problems found so far.
pub struct ParamReader {
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: http::HeaderMap,
    details: Vec<Detail>,
}

/// A parameter's Rust type: parsed from its wire text, checked against its schema as JSON.
pub trait FromParam: Sized {
    /// Parses one occurrence.
    fn from_param(text: &str) -> Result<Self, String>;
}

impl<T: DeserializeOwned> FromParam for T {
    fn from_param(text: &str) -> Result<Self, String> {
        // Strings (and string-like types: uuids, enums, dates) parse from a JSON string;
        // numbers and booleans from their JSON text.
        serde_json::from_value(Value::String(text.to_string())).or_else(|string_error| {
            serde_json::from_str(text).map_err(|_| string_error.to_string())
        })
    }
}

impl ParamReader {
    fn raw(&mut self, location: &str, name: &str) -> Vec<String> {
        match location {
            "header" => self
                .headers
                .get_all(name)
                .iter()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .collect(),
            "path" => self
                .path
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, v)| v.clone())
                .collect(),
            _ => self
                .query
                .iter()
                .filter(|(key, _)| key == name)
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    fn reject(&mut self, location: &str, name: &str, code: &str, message: String) {
        self.details.push(Detail {
            property: format!("{location}/{name}"),
            code: code.into(),
            message,
        });
    }

    /// Reads a parameter that occurs at most once. `None` when absent (recorded as an error
    /// when `required`) or invalid (recorded).
    pub fn single<T: FromParam + serde::Serialize>(
        &mut self,
        location: &str,
        name: &str,
        required: bool,
        validator: &jsonschema::Validator,
    ) -> Option<T> {
        let mut values = self.raw(location, name);
        match values.len() {
            0 => {
                if required {
                    self.reject(location, name, "required", "is required".into());
                }
                None
            }
            1 => self.parse_one(location, name, &values.remove(0), validator),
            _ => {
                self.reject(
                    location,
                    name,
                    "repeated",
                    "must not be given more than once".into(),
                );
                None
            }
        }
    }

    /// Reads a repeatable query parameter (`?id=a&id=b`).
    pub fn repeated<T: FromParam + serde::Serialize>(
        &mut self,
        location: &str,
        name: &str,
        item_validator: &jsonschema::Validator,
        array_validator: &jsonschema::Validator,
    ) -> Vec<T> {
        let before = self.details.len();
        let values = self.raw(location, name);
        let items: Vec<T> = values
            .iter()
            .filter_map(|text| self.parse_one(location, name, text, item_validator))
            .collect();
        if self.details.len() == before {
            let array = Value::Array(values.into_iter().map(Value::String).collect());
            let prefix = format!("{location}/{name}");
            if let Some(detail) = validate(array_validator, &array, &prefix)
                .into_iter()
                .next()
            {
                self.details.push(Detail {
                    property: prefix,
                    ..detail
                });
            }
        }
        items
    }

    fn parse_one<T: FromParam + serde::Serialize>(
        &mut self,
        location: &str,
        name: &str,
        text: &str,
        validator: &jsonschema::Validator,
    ) -> Option<T> {
        let value = match T::from_param(text) {
            Ok(value) => value,
            Err(error) => {
                self.reject(location, name, "type", format!("cannot be parsed: {error}"));
                return None;
            }
        };
        let json = serde_json::to_value(&value).unwrap_or(Value::Null);
        let prefix = format!("{location}/{name}");
        match validate(validator, &json, &prefix).into_iter().next() {
            Some(detail) => {
                self.details.push(Detail {
                    property: prefix,
                    ..detail
                });
                None
            }
            None => Some(value),
        }
    }
}
