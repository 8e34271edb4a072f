//! The front door's two translations, as pure functions: an HTTP request into the event a
//! `lambda_http` function accepts (API Gateway REST v1, HTTP API v2, which is also the function
//! URL format, or Application Load Balancer), built with `aws_lambda_events`' own types, the
//! ones `lambda_http` reads; and the function's answer back into an HTTP response, as API
//! Gateway, a function URL or ALB would make it, with API Gateway's 502 for an answer it cannot
//! use.
//!
//! Which event a function gets: [`kinds_for_features`] reads the features its package enables
//! on `lambda_http` (`apigw_rest`, `apigw_http`, `alb`; the default enables all); when exactly
//! one kind fits it is that one, otherwise the caller chooses (`--http-event`, HTTP v2 by
//! default, as a function URL sends).

use std::collections::HashMap;
use std::net::IpAddr;

use aws_lambda_events::alb::{AlbTargetGroupRequest, AlbTargetGroupRequestContext, ElbContext};
use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyRequestContext, ApiGatewayRequestIdentity,
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::query_map::QueryMap;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use base64::Engine;

use crate::workspace::LambdaHttp;

/// The event an HTTP request becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum HttpEventKind {
    /// API Gateway REST API (payload format 1.0): `lambda_http`'s `apigw_rest`.
    Rest,
    /// API Gateway HTTP API (payload format 2.0), the function URL format: `apigw_http`.
    Http,
    /// Application Load Balancer, multi-value headers on: `alb`.
    Alb,
}

impl HttpEventKind {
    /// The `lambda_http` feature that accepts this event.
    pub fn feature(self) -> &'static str {
        match self {
            HttpEventKind::Rest => "apigw_rest",
            HttpEventKind::Http => "apigw_http",
            HttpEventKind::Alb => "alb",
        }
    }

    /// Its name as `--http-event` takes it.
    pub fn flag_value(self) -> &'static str {
        match self {
            HttpEventKind::Rest => "rest",
            HttpEventKind::Http => "http",
            HttpEventKind::Alb => "alb",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            HttpEventKind::Rest => "API Gateway REST (v1) events",
            HttpEventKind::Http => "HTTP API (v2) events, as a function URL sends",
            HttpEventKind::Alb => "Application Load Balancer events",
        }
    }
}

/// The event kinds a function accepts, from how its package depends on `lambda_http`:
/// `default_features` and the `features` it names. Empty when none of the three is enabled.
pub fn kinds_for_features(default_features: bool, features: &[String]) -> Vec<HttpEventKind> {
    if default_features {
        return vec![HttpEventKind::Rest, HttpEventKind::Http, HttpEventKind::Alb];
    }
    let mut kinds: Vec<HttpEventKind> =
        [HttpEventKind::Rest, HttpEventKind::Http, HttpEventKind::Alb]
            .into_iter()
            .filter(|kind| {
                features
                    .iter()
                    .any(|f| f == kind.feature() || f == "default")
            })
            .collect();
    kinds.dedup();
    kinds
}

/// The kinds `package` accepts, from its `lambda_http` dependency as `cargo metadata` lists
/// it; `None` when it does not depend on `lambda_http` (any kind may be tried).
pub fn kinds_of_package(package: &cargo_metadata::Package) -> Option<Vec<HttpEventKind>> {
    LambdaHttp::of_package(package).map(|dependency| kinds_of(&dependency))
}

/// The kinds a `lambda_http` dependency accepts.
pub fn kinds_of(dependency: &LambdaHttp) -> Vec<HttpEventKind> {
    kinds_for_features(dependency.default_features, &dependency.features)
}

/// The kind to send: the one a function accepts when only one fits, else `requested` (or HTTP
/// v2, a function URL's, when nothing was asked for). `Err` says why a request cannot work.
pub fn choose_kind(
    accepted: Option<&[HttpEventKind]>,
    requested: Option<HttpEventKind>,
) -> Result<HttpEventKind, String> {
    let Some(accepted) = accepted else {
        // Not a lambda_http function (or not known): whatever was asked, HTTP v2 by default.
        return Ok(requested.unwrap_or(HttpEventKind::Http));
    };
    match (accepted, requested) {
        ([only], None) => Ok(*only),
        (_, Some(kind)) if accepted.contains(&kind) || accepted.is_empty() => Ok(kind),
        (_, None) if accepted.contains(&HttpEventKind::Http) || accepted.is_empty() => {
            Ok(HttpEventKind::Http)
        }
        (_, None) => Ok(accepted[0]),
        (_, Some(kind)) => Err(format!(
            "--http-event {}: the function's lambda_http does not enable the `{}` feature, so it \
             would refuse {}; it accepts {}",
            kind.flag_value(),
            kind.feature(),
            kind.describe(),
            accepted
                .iter()
                .map(|k| k.describe())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// An HTTP request as the front door received it.
#[derive(Debug, Clone)]
pub struct FrontRequest {
    pub method: Method,
    /// The path the function sees (after `/lambda-url/<function>`), starting with `/`, as
    /// sent (percent-encoded).
    pub path: String,
    /// The query string, without `?`, as sent.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub source_ip: IpAddr,
}

/// What the gateway adds: ids, names and the time.
#[derive(Debug, Clone)]
pub struct GatewayContext {
    pub request_id: String,
    /// Unix milliseconds.
    pub time_ms: u64,
    pub account_id: String,
    pub region: String,
    pub function_name: String,
    /// The API (or function URL) id, the first label of the domain.
    pub api_id: String,
}

impl GatewayContext {
    /// The domain AWS would serve: `<id>.lambda-url.<region>.on.aws` for a function URL,
    /// `<id>.execute-api.<region>.amazonaws.com` for API Gateway.
    fn domain(&self, kind: HttpEventKind) -> String {
        match kind {
            HttpEventKind::Http => format!("{}.lambda-url.{}.on.aws", self.api_id, self.region),
            _ => format!("{}.execute-api.{}.amazonaws.com", self.api_id, self.region),
        }
    }
}

/// Whether a body goes as text: a textual content type (or none) and valid UTF-8; otherwise it
/// goes base64-encoded with `isBase64Encoded`, as API Gateway and function URLs send binary.
fn is_text(headers: &HeaderMap, body: &[u8]) -> bool {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let textual = content_type.is_empty()
        || content_type.starts_with("text/")
        || [
            "json",
            "xml",
            "javascript",
            "x-www-form-urlencoded",
            "graphql",
            "yaml",
        ]
        .iter()
        .any(|t| content_type.contains(t));
    textual && std::str::from_utf8(body).is_ok()
}

/// The body field and `isBase64Encoded`.
fn body_field(headers: &HeaderMap, body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    if is_text(headers, body) {
        (Some(String::from_utf8_lossy(body).into_owned()), false)
    } else {
        (
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        )
    }
}

/// The query's parameters, in order, decoded (`decode`) or as sent (ALB passes them as sent).
fn query_pairs(query: Option<&str>, decode: bool) -> Vec<(String, String)> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Vec::new();
    };
    if decode {
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    } else {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect()
    }
}

fn multi_map(pairs: &[(String, String)]) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k.clone()).or_default().push(v.clone());
    }
    map
}

/// Headers with one value per name: the last (API Gateway v1, ALB's `headers`) or all joined
/// with commas (HTTP API v2).
fn single_headers(headers: &HeaderMap, join: bool) -> HeaderMap {
    let mut single = HeaderMap::new();
    for name in headers.keys() {
        let values: Vec<&HeaderValue> = headers.get_all(name).iter().collect();
        let value = if join && values.len() > 1 {
            let joined = values
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(",");
            HeaderValue::from_str(&joined).ok()
        } else {
            values.last().map(|v| (*v).clone())
        };
        if let Some(value) = value {
            single.insert(name.clone(), value);
        }
    }
    single
}

/// `dd/Mon/yyyy:HH:mm:ss +0000`, API Gateway's `requestTime`.
pub fn request_time(unix_ms: u64) -> String {
    let (year, month, day, hour, minute, second, _) = super::report::utc_civil(unix_ms);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS[(month as usize).saturating_sub(1).min(11)];
    format!("{day:02}/{month}/{year}:{hour:02}:{minute:02}:{second:02} +0000")
}

/// The event for `request`, as `kind`'s service sends it, in JSON.
pub fn event(kind: HttpEventKind, request: &FrontRequest, gateway: &GatewayContext) -> Vec<u8> {
    let (body, is_base64_encoded) = body_field(&request.headers, &request.body);
    let user_agent = request
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let source_ip = request.source_ip.to_string();
    let time_epoch = i64::try_from(gateway.time_ms).unwrap_or(i64::MAX);
    let domain = gateway.domain(kind);
    let mut headers = request.headers.clone();
    if !headers.contains_key("host") {
        if let Ok(host) = HeaderValue::from_str(&domain) {
            headers.insert("host", host);
        }
    }
    let serialized = match kind {
        HttpEventKind::Rest => {
            let pairs = query_pairs(request.query.as_deref(), true);
            let mut identity = ApiGatewayRequestIdentity::default();
            identity.source_ip = Some(source_ip);
            identity.user_agent = user_agent;
            let mut context = ApiGatewayProxyRequestContext::default();
            context.account_id = Some(gateway.account_id.clone());
            context.resource_id = Some(gateway.api_id.chars().take(6).collect());
            context.stage = Some("$default".to_string());
            context.domain_name = Some(domain.clone());
            context.domain_prefix = Some(gateway.api_id.clone());
            context.request_id = Some(gateway.request_id.clone());
            context.protocol = Some("HTTP/1.1".to_string());
            context.identity = identity;
            context.resource_path = Some("/{proxy+}".to_string());
            context.path = Some(request.path.clone());
            context.http_method = request.method.clone();
            context.request_time = Some(request_time(gateway.time_ms));
            context.request_time_epoch = time_epoch;
            context.apiid = Some(gateway.api_id.clone());
            let mut event = ApiGatewayProxyRequest::default();
            event.resource = Some("/{proxy+}".to_string());
            event.path = Some(request.path.clone());
            event.http_method = request.method.clone();
            event.headers = single_headers(&headers, false);
            event.multi_value_headers = headers;
            // queryStringParameters holds the last value of each, as API Gateway fills it.
            let last: HashMap<String, String> = pairs.iter().cloned().collect();
            event.query_string_parameters = QueryMap::from(last);
            event.multi_value_query_string_parameters = QueryMap::from(multi_map(&pairs));
            event.path_parameters = HashMap::from([(
                "proxy".to_string(),
                request.path.trim_start_matches('/').to_string(),
            )]);
            event.request_context = context;
            event.body = body;
            event.is_base64_encoded = is_base64_encoded;
            serde_json::to_vec(&event)
        }
        HttpEventKind::Http => {
            let pairs = query_pairs(request.query.as_deref(), true);
            let cookies: Vec<String> = headers
                .get_all("cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            headers.remove("cookie");
            let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
            http.method = request.method.clone();
            http.path = Some(request.path.clone());
            http.protocol = Some("HTTP/1.1".to_string());
            http.source_ip = Some(source_ip);
            http.user_agent = user_agent;
            let mut context = ApiGatewayV2httpRequestContext::default();
            context.route_key = Some("$default".to_string());
            context.account_id = Some(gateway.account_id.clone());
            context.stage = Some("$default".to_string());
            context.request_id = Some(gateway.request_id.clone());
            context.apiid = Some(gateway.api_id.clone());
            context.domain_name = Some(domain);
            context.domain_prefix = Some(gateway.api_id.clone());
            context.time = Some(request_time(gateway.time_ms));
            context.time_epoch = time_epoch;
            context.http = http;
            let mut event = ApiGatewayV2httpRequest::default();
            event.version = Some("2.0".to_string());
            event.route_key = Some("$default".to_string());
            event.raw_path = Some(request.path.clone());
            event.raw_query_string = Some(request.query.clone().unwrap_or_default());
            event.cookies = (!cookies.is_empty()).then_some(cookies);
            event.headers = single_headers(&headers, true);
            event.query_string_parameters = QueryMap::from(multi_map(&pairs));
            event.request_context = context;
            event.body = body;
            event.is_base64_encoded = is_base64_encoded;
            serde_json::to_vec(&event)
        }
        HttpEventKind::Alb => {
            let pairs = query_pairs(request.query.as_deref(), false);
            let mut elb = ElbContext::default();
            elb.target_group_arn = Some(format!(
                "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}/{}",
                gateway.region,
                gateway.account_id,
                gateway.function_name.chars().take(32).collect::<String>(),
                gateway.api_id
            ));
            let mut context = AlbTargetGroupRequestContext::default();
            context.elb = elb;
            let mut event = AlbTargetGroupRequest::default();
            event.http_method = request.method.clone();
            event.path = Some(request.path.clone());
            event.multi_value_query_string_parameters = QueryMap::from(multi_map(&pairs));
            event.multi_value_headers = headers;
            event.request_context = context;
            event.body = Some(body.unwrap_or_default());
            event.is_base64_encoded = is_base64_encoded;
            serde_json::to_vec(&event)
        }
    };
    let mut value: serde_json::Value =
        serde_json::from_slice(&serialized.expect("events of aws_lambda_events always serialize"))
            .expect("serde_json reads what it wrote");
    if kind == HttpEventKind::Alb {
        // In multi-value mode ALB sends only the multi-value fields.
        if let Some(object) = value.as_object_mut() {
            object.remove("headers");
            object.remove("queryStringParameters");
        }
    }
    serde_json::to_vec(&value).expect("a JSON value serializes")
}

/// An HTTP response made from the function's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontResponse {
    pub status: StatusCode,
    /// In order; a name may repeat (`set-cookie`, multi-value headers).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl FrontResponse {
    fn json(status: StatusCode, body: &str) -> FrontResponse {
        FrontResponse {
            status,
            headers: vec![(
                HeaderName::from_static("content-type"),
                HeaderValue::from_static("application/json"),
            )],
            body: Bytes::from(body.to_string()),
        }
    }

    /// API Gateway's answer when the function failed or answered something it cannot use.
    pub fn bad_gateway() -> FrontResponse {
        FrontResponse::json(
            StatusCode::BAD_GATEWAY,
            r#"{"message":"Internal server error"}"#,
        )
    }

    /// API Gateway's answer when the function ran past its timeout.
    pub fn gateway_timeout() -> FrontResponse {
        FrontResponse::json(
            StatusCode::GATEWAY_TIMEOUT,
            r#"{"message":"Endpoint request timed out"}"#,
        )
    }

    /// The answer when every execution environment is busy (Lambda throttled the call).
    pub fn throttled() -> FrontResponse {
        FrontResponse::json(
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"message":"Too Many Requests"}"#,
        )
    }
}

/// Why an answer could not be used (the front door answers 502 and logs this).
pub type BadAnswer = String;

fn header_pairs(
    value: Option<&serde_json::Value>,
    multi: bool,
) -> Result<Vec<(HeaderName, HeaderValue)>, BadAnswer> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let object = value
        .as_object()
        .ok_or_else(|| "headers must be a JSON object".to_string())?;
    let mut pairs = Vec::new();
    for (name, values) in object {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        let values: Vec<&serde_json::Value> = match (multi, values) {
            (true, serde_json::Value::Array(list)) => list.iter().collect(),
            (true, _) => return Err(format!("multiValueHeaders.{name} must be a list")),
            (false, value) => vec![value],
        };
        for value in values {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return Err(format!("header {name} must be a string")),
            };
            let value = HeaderValue::from_str(&text)
                .map_err(|_| format!("header {name} has a value that cannot be sent"))?;
            pairs.push((name.clone(), value));
        }
    }
    Ok(pairs)
}

/// The HTTP response for a function's (buffered) answer, as `kind`'s service makes it.
pub fn response(kind: HttpEventKind, answer: &[u8]) -> Result<FrontResponse, BadAnswer> {
    let value: serde_json::Value = serde_json::from_slice(answer)
        .map_err(|e| format!("the function's answer is not JSON: {e}"))?;
    let structured = value
        .as_object()
        .is_some_and(|o| o.contains_key("statusCode"));
    if !structured {
        if kind == HttpEventKind::Http {
            // Payload format 2.0 (and function URLs): JSON without a statusCode is the body.
            return Ok(FrontResponse {
                status: StatusCode::OK,
                headers: vec![(
                    HeaderName::from_static("content-type"),
                    HeaderValue::from_static("application/json"),
                )],
                body: Bytes::copy_from_slice(answer),
            });
        }
        return Err("the function's answer has no statusCode".to_string());
    }
    let object = value.as_object().expect("checked above");
    let status = object["statusCode"]
        .as_u64()
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .filter(|code| (100..600).contains(&code.as_u16()))
        .ok_or_else(|| format!("statusCode {} is not an HTTP status", object["statusCode"]))?;
    let mut headers = header_pairs(object.get("headers"), false)?;
    let multi = header_pairs(object.get("multiValueHeaders"), true)?;
    if !multi.is_empty() {
        // multiValueHeaders wins over headers for the names it has.
        headers.retain(|(name, _)| !multi.iter().any(|(m, _)| m == name));
        headers.extend(multi);
    }
    if kind == HttpEventKind::Http {
        if let Some(cookies) = object.get("cookies").filter(|c| !c.is_null()) {
            let list = cookies
                .as_array()
                .ok_or_else(|| "cookies must be a list".to_string())?;
            for cookie in list {
                let cookie = cookie
                    .as_str()
                    .and_then(|c| HeaderValue::from_str(c).ok())
                    .ok_or_else(|| "a cookie must be a string".to_string())?;
                headers.push((HeaderName::from_static("set-cookie"), cookie));
            }
        }
    }
    let base64 = object
        .get("isBase64Encoded")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let body = match object.get("body") {
        None | Some(serde_json::Value::Null) => Bytes::new(),
        Some(serde_json::Value::String(text)) if base64 => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("isBase64Encoded, but the body is not base64: {e}"))?,
        ),
        Some(serde_json::Value::String(text)) => Bytes::from(text.clone()),
        Some(_) => return Err("body must be a string".to_string()),
    };
    Ok(FrontResponse {
        status,
        headers,
        body,
    })
}

/// The status and headers a streamed answer's prelude gives (HTTP 200 when it names none).
pub fn prelude_head(
    prelude: &super::streaming::Prelude,
) -> Result<(StatusCode, Vec<(HeaderName, HeaderValue)>), BadAnswer> {
    let status = match prelude.status_code {
        None => StatusCode::OK,
        Some(code) => StatusCode::from_u16(code)
            .map_err(|_| format!("statusCode {code} is not an HTTP status"))?,
    };
    let mut headers = Vec::new();
    for (name, value) in &prelude.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("header {name} has a value that cannot be sent"))?;
        headers.push((name, value));
    }
    for cookie in &prelude.cookies {
        let value = HeaderValue::from_str(cookie)
            .map_err(|_| "a cookie has a value that cannot be sent".to_string())?;
        headers.push((HeaderName::from_static("set-cookie"), value));
    }
    Ok((status, headers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn request(query: Option<&str>, body: &[u8], content_type: Option<&str>) -> FrontRequest {
        let mut headers = HeaderMap::new();
        headers.append("x-twice", HeaderValue::from_static("one"));
        headers.append("x-twice", HeaderValue::from_static("two"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8"));
        headers.insert("host", HeaderValue::from_static("127.0.0.1:9000"));
        headers.append("cookie", HeaderValue::from_static("a=1; b=2"));
        if let Some(content_type) = content_type {
            headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
        }
        FrontRequest {
            method: Method::POST,
            path: "/orders/42".to_string(),
            query: query.map(str::to_string),
            headers,
            body: Bytes::copy_from_slice(body),
            source_ip: "127.0.0.1".parse().unwrap(),
        }
    }

    fn gateway() -> GatewayContext {
        GatewayContext {
            request_id: "req-1".into(),
            time_ms: 1_764_950_400_123,
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            function_name: "orders".into(),
            api_id: "abcdef1234".into(),
        }
    }

    fn event_json(kind: HttpEventKind, request: &FrontRequest) -> Value {
        serde_json::from_slice(&event(kind, request, &gateway())).unwrap()
    }

    #[test]
    fn rest_events_carry_single_and_multi_values_and_the_request_context() {
        let e = event_json(
            HttpEventKind::Rest,
            &request(
                Some("a=1&a=2&b=x%20y"),
                b"{\"k\":1}",
                Some("application/json"),
            ),
        );
        assert_eq!(e["httpMethod"], "POST");
        assert_eq!(e["path"], "/orders/42");
        assert_eq!(e["resource"], "/{proxy+}");
        assert_eq!(e["pathParameters"], json!({"proxy": "orders/42"}));
        assert_eq!(e["headers"]["x-twice"], "two");
        assert_eq!(e["multiValueHeaders"]["x-twice"], json!(["one", "two"]));
        assert_eq!(e["queryStringParameters"]["a"], "2");
        assert_eq!(e["queryStringParameters"]["b"], "x y");
        assert_eq!(e["multiValueQueryStringParameters"]["a"], json!(["1", "2"]));
        assert_eq!(e["body"], "{\"k\":1}");
        assert_eq!(e["isBase64Encoded"], false);
        let context = &e["requestContext"];
        assert_eq!(context["requestId"], "req-1");
        assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(context["identity"]["userAgent"], "curl/8");
        assert_eq!(context["httpMethod"], "POST");
        assert_eq!(context["path"], "/orders/42");
        assert_eq!(context["stage"], "$default");
        assert_eq!(context["requestTimeEpoch"], 1_764_950_400_123u64);
        assert_eq!(context["requestTime"], "05/Dec/2025:16:00:00 +0000");
        assert_eq!(
            context["domainName"],
            "abcdef1234.execute-api.eu-west-1.amazonaws.com"
        );
        // lambda_http's own type reads it back.
        let back: ApiGatewayProxyRequest = serde_json::from_value(e).unwrap();
        assert_eq!(back.http_method, Method::POST);
    }

    #[test]
    fn http_v2_events_take_cookies_out_of_the_headers_and_join_repeated_values() {
        let e = event_json(HttpEventKind::Http, &request(Some("a=1&a=2"), b"", None));
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "$default");
        assert_eq!(e["rawPath"], "/orders/42");
        assert_eq!(e["rawQueryString"], "a=1&a=2");
        assert_eq!(e["cookies"], json!(["a=1", "b=2"]));
        assert!(e["headers"].get("cookie").is_none(), "{e}");
        assert_eq!(e["headers"]["x-twice"], "one,two");
        assert_eq!(e["queryStringParameters"]["a"], "1,2");
        assert!(e.get("body").is_none());
        let http = &e["requestContext"]["http"];
        assert_eq!(http["method"], "POST");
        assert_eq!(http["path"], "/orders/42");
        assert_eq!(http["sourceIp"], "127.0.0.1");
        assert_eq!(
            e["requestContext"]["domainName"],
            "abcdef1234.lambda-url.eu-west-1.on.aws"
        );
        assert_eq!(e["requestContext"]["timeEpoch"], 1_764_950_400_123u64);
        let back: ApiGatewayV2httpRequest = serde_json::from_value(e).unwrap();
        assert_eq!(back.request_context.http.method, Method::POST);
    }

    #[test]
    fn alb_events_are_multi_value_with_the_query_as_sent() {
        let e = event_json(
            HttpEventKind::Alb,
            &request(Some("q=a%20b&q=c"), b"x", Some("text/plain")),
        );
        assert_eq!(
            e["multiValueQueryStringParameters"]["q"],
            json!(["a%20b", "c"])
        );
        assert_eq!(e["multiValueHeaders"]["x-twice"], json!(["one", "two"]));
        assert!(e.get("headers").is_none() && e.get("queryStringParameters").is_none());
        assert!(e["requestContext"]["elb"]["targetGroupArn"]
            .as_str()
            .unwrap()
            .starts_with(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/"
            ));
        assert_eq!(e["body"], "x");
        let back: AlbTargetGroupRequest = serde_json::from_value(e).unwrap();
        assert_eq!(back.path.as_deref(), Some("/orders/42"));
    }

    #[test]
    fn binary_bodies_go_base64() {
        let bytes = [0u8, 159, 146, 150];
        for kind in [HttpEventKind::Rest, HttpEventKind::Http, HttpEventKind::Alb] {
            let e = event_json(
                kind,
                &request(None, &bytes, Some("application/octet-stream")),
            );
            assert_eq!(e["isBase64Encoded"], true, "{kind:?}");
            assert_eq!(
                base64::engine::general_purpose::STANDARD
                    .decode(e["body"].as_str().unwrap())
                    .unwrap(),
                bytes
            );
        }
        // Text that is not UTF-8 is binary too.
        let e = event_json(
            HttpEventKind::Http,
            &request(None, &[0xff], Some("text/plain")),
        );
        assert_eq!(e["isBase64Encoded"], true);
    }

    #[test]
    fn answers_map_back_with_multi_value_headers_cookies_and_base64() {
        let answer = json!({
            "statusCode": 201,
            "headers": {"content-type": "text/html", "x-one": "1"},
            "multiValueHeaders": {"x-one": ["a", "b"]},
            "cookies": ["s=1; Path=/"],
            "body": base64::engine::general_purpose::STANDARD.encode([1u8, 2, 3]),
            "isBase64Encoded": true
        });
        let response = response(HttpEventKind::Http, answer.to_string().as_bytes()).unwrap();
        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(response.body.as_ref(), [1, 2, 3]);
        let values = |name: &str| -> Vec<&str> {
            response
                .headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.to_str().unwrap())
                .collect()
        };
        assert_eq!(values("x-one"), ["a", "b"]);
        assert_eq!(values("content-type"), ["text/html"]);
        assert_eq!(values("set-cookie"), ["s=1; Path=/"]);
    }

    #[test]
    fn v2_infers_a_plain_json_answer_and_v1_refuses_it() {
        let plain = br#"{"hello":"world"}"#;
        let inferred = response(HttpEventKind::Http, plain).unwrap();
        assert_eq!(inferred.status, StatusCode::OK);
        assert_eq!(inferred.body.as_ref(), plain);
        assert!(response(HttpEventKind::Rest, plain).is_err());
        assert!(response(HttpEventKind::Alb, plain).is_err());
        for bad in [
            &b"not json"[..],
            br#"{"statusCode": 99}"#,
            br#"{"statusCode": "200"}"#,
            br#"{"statusCode": 200, "headers": {"x": {}}}"#,
            br#"{"statusCode": 200, "body": 5}"#,
            br#"{"statusCode": 200, "body": "@@", "isBase64Encoded": true}"#,
        ] {
            assert!(
                response(HttpEventKind::Rest, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(FrontResponse::bad_gateway().status, StatusCode::BAD_GATEWAY);
        assert_eq!(
            FrontResponse::bad_gateway().body.as_ref(),
            br#"{"message":"Internal server error"}"#
        );
    }

    #[test]
    fn the_kind_follows_the_features_when_one_fits() {
        let features = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rest_only = kinds_for_features(false, &features(&["apigw_rest"]));
        assert_eq!(rest_only, [HttpEventKind::Rest]);
        assert_eq!(choose_kind(Some(&rest_only), None), Ok(HttpEventKind::Rest));
        assert!(choose_kind(Some(&rest_only), Some(HttpEventKind::Http))
            .unwrap_err()
            .contains("apigw_http"));
        let all = kinds_for_features(true, &[]);
        assert_eq!(choose_kind(Some(&all), None), Ok(HttpEventKind::Http));
        assert_eq!(
            choose_kind(Some(&all), Some(HttpEventKind::Alb)),
            Ok(HttpEventKind::Alb)
        );
        let two = kinds_for_features(false, &features(&["alb", "apigw_rest", "tracing"]));
        assert_eq!(two, [HttpEventKind::Rest, HttpEventKind::Alb]);
        assert_eq!(choose_kind(Some(&two), None), Ok(HttpEventKind::Rest));
        assert_eq!(choose_kind(None, None), Ok(HttpEventKind::Http));
    }
}
