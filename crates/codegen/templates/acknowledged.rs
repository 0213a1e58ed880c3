/// An acknowledgement without a body: the status `CODE` the spec documents (dropshot has a
/// type for 204 only, `HttpResponseUpdatedNoContent`) and the headers `H` it documents, a
/// struct of string fields (`None` ones are left out).
#[derive(Clone, Copy, Debug, Default)]
pub struct Acknowledged<const CODE: u16, H = ::dropshot::NoHeaders> {
    headers: H,
}

impl<const CODE: u16> Acknowledged<CODE> {
    /// The acknowledgement, without headers.
    pub fn new() -> Self {
        Self {
            headers: ::dropshot::NoHeaders {},
        }
    }
}

impl<const CODE: u16, H> Acknowledged<CODE, H> {
    /// The acknowledgement with the spec's headers.
    pub fn with_headers(headers: H) -> Self {
        Self { headers }
    }

    const STATUS: ::http::StatusCode = match ::http::StatusCode::from_u16(CODE) {
        Ok(status) => status,
        Err(_) => panic!("an acknowledgement's status is a valid HTTP status"),
    };
}

impl<const CODE: u16, H> ::dropshot::HttpResponse for Acknowledged<CODE, H>
where
    H: ::serde::Serialize + ::schemars::JsonSchema + Send + Sync + 'static,
{
    fn to_result(self) -> Result<::http::Response<::dropshot::Body>, ::dropshot::HttpError> {
        let internal = |error: String| ::dropshot::HttpError::for_internal_error(error);
        let mut response = ::http::Response::builder()
            .status(Self::STATUS)
            .body(::dropshot::Body::empty())
            .map_err(|error| internal(error.to_string()))?;
        let headers = ::serde_json::to_value(&self.headers).map_err(|error| internal(error.to_string()))?;
        for (name, value) in headers.as_object().into_iter().flatten() {
            let Some(value) = value.as_str() else { continue };
            let name = ::http::HeaderName::try_from(name.as_str()).map_err(|error| internal(error.to_string()))?;
            let value = ::http::HeaderValue::try_from(value).map_err(|error| internal(error.to_string()))?;
            response.headers_mut().insert(name, value);
        }
        Ok(response)
    }

    fn response_metadata() -> ::dropshot::ApiEndpointResponse {
        let mut metadata =
            <::dropshot::HttpResponseUpdatedNoContent as ::dropshot::HttpResponse>::response_metadata();
        metadata.success = Some(Self::STATUS);
        metadata.headers = <::dropshot::HttpResponseHeaders<::dropshot::HttpResponseOk<()>, H> as ::dropshot::HttpResponse>::response_metadata().headers;
        metadata
    }

    fn status_code(&self) -> ::http::StatusCode {
        Self::STATUS
    }
}
