//! The in-workspace `uniffi-bindgen`: the same uniffi version as the library it reads, so
//! generated code and scaffolding always agree. Used by `scripts/bindings.sh`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
