// The Compose screens shared by the Android app and the desktop app (desktop/pom.xml compiles
// the same sources with Maven). On Android: an Android library with Jetpack Compose and
// Material 3; the strings files in src/main/resources are packaged as Java resources and read
// by coop.logbook.ui.Strings. NOT BUILT ON THIS MACHINE (no Android SDK, no Google Maven).
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "coop.logbook.ui"
    compileSdk = 35
    defaultConfig { minSdk = 26 }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
        // java.time on Android 8 (API 26) is there; no desugaring needed.
    }
    buildFeatures { compose = true }
    sourceSets["main"].java.srcDir("src/main/kotlin")
    sourceSets["main"].resources.srcDir("src/main/resources")
}

kotlin { jvmToolchain(17) }

dependencies {
    api(project(":logbook-android"))
    api(platform(libs.androidx.compose.bom))
    api(libs.androidx.compose.ui)
    api(libs.androidx.compose.foundation)
    api(libs.androidx.compose.material3)
    implementation(libs.kotlinx.coroutines.android)
}
