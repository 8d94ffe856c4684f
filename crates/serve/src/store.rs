//! Functions, revisions, traffic and tags in an embedded database (being written).
