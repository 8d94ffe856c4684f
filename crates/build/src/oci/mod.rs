//! OCI images: layers, config, manifest, image layout, registry pull and push.
