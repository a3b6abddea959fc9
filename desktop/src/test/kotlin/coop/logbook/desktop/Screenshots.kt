// Render a composable to a PNG under target/screenshots/ and check it is not blank.
package coop.logbook.desktop

import androidx.compose.runtime.Composable
import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.unit.Density
import java.io.ByteArrayInputStream
import java.io.File
import javax.imageio.ImageIO
import org.jetbrains.skia.EncodedImageFormat
import kotlin.test.assertTrue

object Screenshots {
    val dir: File = File(System.getProperty("logbook.screenshots.dir") ?: "target/screenshots").apply { mkdirs() }

    /** Facts about a rendered image, for the blank-screen check. */
    data class Stats(val width: Int, val height: Int, val distinctColours: Int, val dominantShare: Double)

    /** Render [content] at [width]x[height] px (density 1), write `<name>.png`, return its stats. */
    fun render(name: String, width: Int = 1280, height: Int = 800, content: @Composable () -> Unit): Pair<File, Stats> {
        val scene = ImageComposeScene(width, height, Density(1f), content = content)
        val png = try {
            scene.render().encodeToData(EncodedImageFormat.PNG)!!.bytes
        } finally {
            scene.close()
        }
        val file = File(dir, "$name.png")
        file.writeBytes(png)
        val img = ImageIO.read(ByteArrayInputStream(png))
        val counts = HashMap<Int, Int>()
        for (y in 0 until img.height) for (x in 0 until img.width) counts.merge(img.getRGB(x, y), 1, Int::plus)
        val stats = Stats(img.width, img.height, counts.size, counts.values.max().toDouble() / (img.width * img.height))
        return file to stats
    }

    /**
     * Fail if the image is blank: a handful of colours (text alone brings dozens of
     * anti-aliasing shades), or 99.5 % of the pixels one colour (the sparsest screen, the empty
     * roster, is about 97 % background).
     */
    fun assertNotBlank(file: File, stats: Stats) {
        assertTrue(stats.distinctColours > 8, "$file looks blank: only ${stats.distinctColours} colours")
        assertTrue(stats.dominantShare < 0.995, "$file looks blank: ${"%.1f".format(stats.dominantShare * 100)} % one colour")
    }
}
