/// An acknowledgement without a body, answered with the status `CODE` the spec documents
/// (dropshot has a type for 204 only: `HttpResponseUpdatedNoContent`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Acknowledged<const CODE: u16>;

impl<const CODE: u16> Acknowledged<CODE> {
    const STATUS: ::http::StatusCode = match ::http::StatusCode::from_u16(CODE) {
        Ok(status) => status,
        Err(_) => panic!("an acknowledgement's status is a valid HTTP status"),
    };
}

impl<const CODE: u16> ::dropshot::HttpResponse for Acknowledged<CODE> {
    fn to_result(self) -> Result<::http::Response<::dropshot::Body>, ::dropshot::HttpError> {
        ::http::Response::builder()
            .status(Self::STATUS)
            .body(::dropshot::Body::empty())
            .map_err(|error| ::dropshot::HttpError::for_internal_error(error.to_string()))
    }

    fn response_metadata() -> ::dropshot::ApiEndpointResponse {
        let mut metadata =
            <::dropshot::HttpResponseUpdatedNoContent as ::dropshot::HttpResponse>::response_metadata();
        metadata.success = Some(Self::STATUS);
        metadata
    }

    fn status_code(&self) -> ::http::StatusCode {
        Self::STATUS
    }
}
