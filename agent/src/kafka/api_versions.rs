//! ApiVersions: the APIs and versions this agent serves.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{ApiVersionsResponse, api_versions_response::ApiVersion};

use super::versions;

/// The answer to ApiVersions; `unsupported` when the client asked for a
/// version we do not serve (it is then encoded as v0, which every client
/// can read, and the client retries with a version from the list).
pub fn response(unsupported: bool) -> ApiVersionsResponse {
    let api_keys = versions::advertised()
        .map(|(key, range)| {
            ApiVersion::default()
                .with_api_key(key as i16)
                .with_min_version(range.min)
                .with_max_version(range.max)
        })
        .collect();
    let error_code = if unsupported {
        ResponseError::UnsupportedVersion.code()
    } else {
        0
    };
    ApiVersionsResponse::default()
        .with_error_code(error_code)
        .with_api_keys(api_keys)
}
