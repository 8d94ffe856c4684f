//! Real parts for motif's tests: a docker-registry on loopback, images run with umoci and runc.
