//! The per-revision autoscaler (being written).
