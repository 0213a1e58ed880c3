//! The round-trip proof: compare the OpenAPI document dropshot derives from the generated trait
//! with the source document. (Filled in below.)
