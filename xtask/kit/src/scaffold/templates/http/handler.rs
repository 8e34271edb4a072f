//! What the function answers to an HTTP request. `lambda_http` turns the {{front}} event into
//! an `http::Request` and the `Response` back into what {{front}} expects.

use lambda_http::{Body, Error, Request, RequestExt, Response};

/// The pure part: the page for a visitor.
pub(crate) fn page(who: &str) -> String {
    format!("Hello, {who}! This is {{name}}, a Rust function on AWS Lambda.")
}

pub(crate) async fn function_handler(event: Request) -> Result<Response<Body>, Error> {
    let who = event
        .query_string_parameters_ref()
        .and_then(|params| params.first("name"))
        .unwrap_or("world")
        .to_string();
    let response = Response::builder()
        .status(200)
        .header("content-type", "text/plain; charset=utf-8")
        .body(page(&who).into())?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[tokio::test]
    async fn answers_with_the_visitors_name() {
        let request = Request::default().with_query_string_parameters(HashMap::from([(
            "name".to_string(),
            "Ada".to_string(),
        )]));
        let response = function_handler(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let Body::Text(text) = response.body() else {
            panic!("expected a text body, got {:?}", response.body());
        };
        assert_eq!(text, &page("Ada"));
        assert!(text.starts_with("Hello, Ada!"));
    }
}
