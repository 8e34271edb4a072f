//! calculate-pi: an AWS Lambda function (custom runtime, `provided.al2`/`provided.al2023`)
//! that answers `{"digits": "10_000"}` with the first N decimal digits of pi.
//!
//! `main.rs` only wires the Lambda runtime; everything here is plain and testable:
//! - [`event`] turns any JSON payload into a [`event::PiRequest`] or a specific error,
//! - [`pi`] computes the digits,
//! - [`deadline`] decides early when the digits cannot be done before the timeout,
//! - [`handler`] joins them and shapes the response.

pub mod deadline;
pub mod event;
pub mod handler;
pub mod limits;
pub mod pi;
