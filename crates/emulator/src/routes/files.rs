//! `/files` handlers: streamed multipart upload and search.

use futures_util::StreamExt;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyStream;
use hyper::body::Incoming;

use super::shape::Shape;
use super::{CREATED, parse_limit, query_pairs, query_uuid};
use crate::http::{ApiError, RespBody, json_response};
use crate::issue_path;
use crate::model::UploadIn;
use crate::model::files::Fnv;
use crate::model::keys::KeyEntry;
use crate::shared::Shared;

fn multer_error(e: multer::Error, limit: u64) -> ApiError {
    match e {
        multer::Error::FieldSizeExceeded { field_name, .. }
            if field_name.as_deref() == Some("file") =>
        {
            ApiError::payload_too_large(limit)
        }
        multer::Error::StreamSizeExceeded { .. } => ApiError::payload_too_large(limit),
        multer::Error::FieldSizeExceeded { field_name, limit } => ApiError::bad_request(
            issue_path![field_name.unwrap_or_default()],
            format!("Field larger than {limit} bytes"),
        ),
        other => ApiError::bad_request(vec![], format!("Malformed multipart body: {other}")),
    }
}

pub(super) async fn upload(
    shared: &Shared,
    key: &KeyEntry,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let limits = shared.lock().config.limits.clone();
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::bad_request(
            vec![],
            "Content-Type must be multipart/form-data",
        ));
    }
    let boundary = multer::parse_boundary(ct)
        .map_err(|_| ApiError::bad_request(vec![], "multipart boundary missing"))?;
    let overhead =
        u64::from(limits.max_multipart_parts) * (limits.max_multipart_field_bytes + 4096);
    let whole = limits.max_upload_bytes.saturating_add(overhead);
    // Refuse a declared oversize body before reading any of it.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > whole) {
        return Err(ApiError::payload_too_large(limits.max_upload_bytes));
    }
    let stream = BodyStream::new(req.into_body()).filter_map(|frame| async move {
        match frame {
            Ok(f) => f.into_data().ok().map(Ok),
            Err(e) => Some(Err(e)),
        }
    });
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(whole)
            .per_field(limits.max_multipart_field_bytes)
            .for_field("file", limits.max_upload_bytes),
    );
    let mut mp = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut up = UploadIn::default();
    let (mut parts, mut seen_file) = (0u32, false);
    let err = |e| multer_error(e, limits.max_upload_bytes);
    while let Some(mut field) = mp.next_field().await.map_err(err)? {
        parts += 1;
        if parts > limits.max_multipart_parts {
            return Err(ApiError::bad_request(
                vec![],
                format!("More than {} multipart parts", limits.max_multipart_parts),
            ));
        }
        match field.name() {
            Some("file") => {
                if seen_file {
                    return Err(ApiError::bad_request(
                        issue_path!["file"],
                        "Only one file per upload",
                    ));
                }
                seen_file = true;
                up.filename = field.file_name().map(str::to_owned);
                up.content_type = field.content_type().map(|m| m.to_string());
                let mut hash = Fnv::default();
                while let Some(chunk) = field.chunk().await.map_err(err)? {
                    up.size += chunk.len() as u64;
                    hash.update(&chunk);
                }
                up.checksum = hash.0;
            }
            Some("path") => up.path = Some(field.text().await.map_err(err)?),
            Some("parentId") => up.parent_id = Some(field.text().await.map_err(err)?),
            // Unknown fields are read and ignored, like unknown JSON fields.
            _ => while field.chunk().await.map_err(err)?.is_some() {},
        }
    }
    if !seen_file {
        return Err(ApiError::bad_request(issue_path!["file"], "Required"));
    }
    let now = shared.clock.now_ms();
    let v = shared.lock().commit_upload(&key.user, up, now)?;
    Ok(json_response(CREATED, &v))
}

pub(super) fn search(
    shared: &Shared,
    key: &KeyEntry,
    req: &Request<Incoming>,
) -> Result<Response<RespBody>, ApiError> {
    let pairs = query_pairs(req.uri().query());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let query = match get("query") {
        Some(q) if !q.trim().is_empty() => q.to_owned(),
        _ => return Err(ApiError::bad_request(issue_path!["query"], "Required")),
    };
    let limit = parse_limit(get("limit"), 10, 50)?;
    let cursor = query_uuid(get("cursor"), "cursor")?;
    let integration = query_uuid(get("integrationId"), "integrationId")?;
    let v = shared
        .lock()
        .search_files(&key.user, &query, limit, cursor, integration)?;
    Ok(json_response(
        StatusCode::OK,
        &Shape::of(shared).page(v, "files"),
    ))
}
