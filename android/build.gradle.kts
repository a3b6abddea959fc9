// Root build: declares the plugin versions once (see gradle/libs.versions.toml); each module
// applies what it needs.
plugins {
    alias(libs.plugins.kotlin.jvm) apply false
    alias(libs.plugins.kotlin.android) apply false
    alias(libs.plugins.android.library) apply false
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.kotlin.compose) apply false
}

// Where the Rust side puts its outputs. scripts/bindings.sh kotlin writes the generated
// Kotlin to <cargo target dir>/bindings/kotlin; CARGO_TARGET_DIR is honoured as there.
val cargoTargetDir: File =
    System.getenv("CARGO_TARGET_DIR")?.let { file(it) } ?: rootDir.resolve("../target")
extra["cargoTargetDir"] = cargoTargetDir
extra["generatedKotlinBindings"] = cargoTargetDir.resolve("bindings/kotlin")
