//! Media types: which are JSON, which are forms, which body the generator serves.

/// The media type without parameters, lower-cased (`application/json; charset=utf-8` is
/// `application/json`).
pub fn essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether `essence` is JSON: `application/json` or any `+json` type.
pub fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || essence
            .split_once('/')
            .is_some_and(|(_, subtype)| subtype.ends_with("+json"))
}

/// How a request body of a media type is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BodyMedia {
    Json,
    Form,
    Multipart,
    Raw,
}

impl BodyMedia {
    pub fn of(media: &str) -> Self {
        match essence(media).as_str() {
            e if is_json(e) => Self::Json,
            "application/x-www-form-urlencoded" => Self::Form,
            "multipart/form-data" => Self::Multipart,
            _ => Self::Raw,
        }
    }
}
