//! calculate-pi: an AWS Lambda function (custom runtime, `provided.al2`/`provided.al2023`)
//! that answers `{"digits": "10_000"}` with the first N decimal digits of pi.
//!
//! `main.rs` only wires the runtime; everything here is plain and testable. The modules
//! import each other in one direction only (leaves first):
//! - [`digit_string`] (leaf) parses `"10_000"`-style whole numbers,
//! - [`pi`] (leaf) names the [`pi::Algorithm`]s and computes the digits,
//! - [`limits`] (uses `pi`, `digit_string`) reads the largest request each algorithm accepts,
//! - [`event`] (uses `limits`, `pi`, `digit_string`) turns any JSON payload into a
//!   [`event::PiRequest`] or a specific error,
//! - [`deadline`] (uses `pi`) decides early when the digits cannot be done before the timeout,
//!   and which deadlines cannot be real,
//! - [`response`] (uses nothing above) shapes the answer: buffered, or streamed in chunks,
//! - [`handler`] joins them into what `lambda_runtime::run(service_fn(…))` calls,
//! - [`startup`] checks the environment lambda_runtime needs and reports init errors.

pub mod deadline;
pub mod digit_string;
pub mod event;
pub mod handler;
pub mod limits;
pub mod pi;
pub mod response;
pub mod startup;
