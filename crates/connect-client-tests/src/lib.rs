//! Tests only: see `tests/client`.
