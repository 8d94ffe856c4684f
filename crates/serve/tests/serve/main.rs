//! `motif serve` end to end over real sockets: the gateway, the admin API, process
//! instances of the real `motif-invoker`, wasm instances of a real component.

mod common;
mod events;
mod parity;
mod reliability;
mod routing;
mod scaling;
