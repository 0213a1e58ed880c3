//! Rejections as the spec's own error bodies.

use serde_json::Value;

use crate::Rejection;

/// A rejection as the spec's error body, through a template the generator derived from that
/// body's schema: its string values `"{code}"`, `"{message}"` (`"{summary}"` for the message
/// with every detail in it), `"{reason}"` (the status's
/// reason phrase, given) and `"{status}"` (a number) stand for the rejection's, and an object
/// `{"$details": item}` for an array holding `item` once per detail, with `"{property}"`,
/// `"{code}"`, `"{message}"` and `"{line}"` (`property: message`) of that detail; with
/// `"$omit_empty": true` beside `$details`, the member is left out when there are no details.
pub fn render_rejection(template: &Value, reason: &str, rejection: &Rejection) -> Value {
    let status = rejection.status;
    let fill = |text: &str, property: &str, code: &str, message: &str| -> Option<Value> {
        Some(match text {
            "{code}" => Value::String(code.to_string()),
            // The message with every detail in it, for a body with nowhere else to put them.
            "{summary}" if rejection.details.len() > 1 => Value::String(format!(
                "{message}: {}",
                rejection
                    .details
                    .iter()
                    .map(|d| format!("{}: {}", d.property, d.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            "{summary}" => Value::String(message.to_string()),
            "{message}" => Value::String(message.to_string()),
            "{property}" => Value::String(property.to_string()),
            "{reason}" => Value::String(reason.to_string()),
            "{status}" => Value::from(status),
            "{line}" if property.is_empty() => Value::String(message.to_string()),
            "{line}" => Value::String(format!("{property}: {message}")),
            _ => return None,
        })
    };
    fn walk(
        node: &Value,
        rejection: &Rejection,
        detail: Option<&crate::Detail>,
        fill: &dyn Fn(&str, &str, &str, &str) -> Option<Value>,
    ) -> Value {
        match node {
            Value::String(text) => {
                let filled = match detail {
                    Some(d) => fill(text, &d.property, &d.code, &d.message),
                    None => fill(text, "", &rejection.code, &rejection.message),
                };
                filled.unwrap_or_else(|| node.clone())
            }
            Value::Object(map) if map.contains_key("$details") => {
                let item = &map["$details"];
                Value::Array(
                    rejection
                        .details
                        .iter()
                        .map(|d| walk(item, rejection, Some(d), fill))
                        .collect(),
                )
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    // An optional list of details is left out when there are none.
                    .filter(|(_, v)| {
                        !(rejection.details.is_empty()
                            && v.get("$omit_empty") == Some(&Value::Bool(true)))
                    })
                    .map(|(k, v)| (k.clone(), walk(v, rejection, detail, fill)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| walk(v, rejection, detail, fill))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    walk(template, rejection, None, &fill)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Detail;
    use serde_json::json;

    #[test]
    fn templates_are_filled_and_empty_optional_details_left_out() {
        let template = json!({
            "code": "{code}", "message": "{message}", "status": "{status}", "title": "{reason}",
            "details": {"$details": {"property": "{property}", "message": "{message}"}, "$omit_empty": true},
            "lines": {"$details": "{line}"},
            "type": "about:blank"
        });
        let mut rejection = Rejection::validation(vec![Detail {
            property: "/name".into(),
            code: "maxLength".into(),
            message: "is too long".into(),
        }]);
        let body = render_rejection(&template, "Bad Request", &rejection);
        assert_eq!(
            body,
            json!({
                "code": "validation_error", "message": "invalid request: /name: is too long",
                "status": 400, "title": "Bad Request",
                "details": [{"property": "/name", "message": "is too long"}],
                "lines": ["/name: is too long"], "type": "about:blank"
            })
        );
        rejection.details.clear();
        let body = render_rejection(&template, "Bad Request", &rejection);
        assert!(body.get("details").is_none(), "{body}");
        assert_eq!(body["lines"], json!([]));
    }
}
