//! End-to-end tests of the reference gateway over loopback HTTP.
