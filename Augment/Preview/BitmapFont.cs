namespace TransferKit.Augment.Preview;

/// <summary>
/// A 5×7 pixel font (upper-case letters, digits, a little punctuation; lower case is drawn as upper case, anything else
/// as '?') for captions on preview grids, so labelling needs no font files and no text-rendering library.
/// </summary>
public static class BitmapFont
{
    /// <summary>Glyph width and height in font pixels; each glyph cell is one column wider for spacing.</summary>
    public const int GlyphWidth = 5, GlyphHeight = 7;

    // Rows top to bottom, '#' = ink.
    static readonly Dictionary<char, string> Rows = new()
    {
        [' '] = ".....|.....|.....|.....|.....|.....|.....",
        ['A'] = ".###.|#...#|#...#|#####|#...#|#...#|#...#",
        ['B'] = "####.|#...#|#...#|####.|#...#|#...#|####.",
        ['C'] = ".###.|#...#|#....|#....|#....|#...#|.###.",
        ['D'] = "####.|#...#|#...#|#...#|#...#|#...#|####.",
        ['E'] = "#####|#....|#....|####.|#....|#....|#####",
        ['F'] = "#####|#....|#....|####.|#....|#....|#....",
        ['G'] = ".###.|#...#|#....|#.###|#...#|#...#|.####",
        ['H'] = "#...#|#...#|#...#|#####|#...#|#...#|#...#",
        ['I'] = ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
        ['J'] = "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
        ['K'] = "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
        ['L'] = "#....|#....|#....|#....|#....|#....|#####",
        ['M'] = "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
        ['N'] = "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
        ['O'] = ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
        ['P'] = "####.|#...#|#...#|####.|#....|#....|#....",
        ['Q'] = ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
        ['R'] = "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
        ['S'] = ".####|#....|#....|.###.|....#|....#|####.",
        ['T'] = "#####|..#..|..#..|..#..|..#..|..#..|..#..",
        ['U'] = "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
        ['V'] = "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
        ['W'] = "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
        ['X'] = "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
        ['Y'] = "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
        ['Z'] = "#####|....#|...#.|..#..|.#...|#....|#####",
        ['0'] = ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
        ['1'] = "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
        ['2'] = ".###.|#...#|....#|...#.|..#..|.#...|#####",
        ['3'] = "#####|...#.|..#..|...#.|....#|#...#|.###.",
        ['4'] = "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
        ['5'] = "#####|#....|####.|....#|....#|#...#|.###.",
        ['6'] = "..##.|.#...|#....|####.|#...#|#...#|.###.",
        ['7'] = "#####|....#|...#.|..#..|.#...|.#...|.#...",
        ['8'] = ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
        ['9'] = ".###.|#...#|#...#|.####|....#|...#.|.##..",
        ['-'] = ".....|.....|.....|#####|.....|.....|.....",
        ['_'] = ".....|.....|.....|.....|.....|.....|#####",
        ['.'] = ".....|.....|.....|.....|.....|.##..|.##..",
        [','] = ".....|.....|.....|.....|.##..|..#..|.#...",
        ['/'] = ".....|....#|...#.|..#..|.#...|#....|.....",
        ['('] = "...#.|..#..|.#...|.#...|.#...|..#..|...#.",
        [')'] = ".#...|..#..|...#.|...#.|...#.|..#..|.#...",
        [':'] = ".....|.##..|.##..|.....|.##..|.##..|.....",
        ['\''] = "..#..|..#..|.#...|.....|.....|.....|.....",
        ['+'] = ".....|..#..|..#..|#####|..#..|..#..|.....",
        ['?'] = ".###.|#...#|....#|...#.|..#..|.....|..#..",
    };

    /// <summary>Whether font pixel (<paramref name="x"/>, <paramref name="y"/>) of <paramref name="c"/>'s glyph is inked.</summary>
    public static bool Ink(char c, int x, int y)
    {
        if ((uint)x >= GlyphWidth || (uint)y >= GlyphHeight) return false;
        if (!Rows.TryGetValue(char.ToUpperInvariant(c), out var rows)) rows = Rows['?'];
        return rows[y * (GlyphWidth + 1) + x] == '#';
    }

    /// <summary>Width in font pixels of <paramref name="text"/> (one blank column between glyphs).</summary>
    public static int Measure(string text) => text.Length == 0 ? 0 : text.Length * (GlyphWidth + 1) - 1;

    /// <summary>
    /// Calls <paramref name="plot"/>(x, y) for every inked pixel of <paramref name="text"/> drawn at <paramref name="scale"/>
    /// screen pixels per font pixel with its top-left corner at (<paramref name="left"/>, <paramref name="top"/>).
    /// </summary>
    public static void Draw(string text, int left, int top, int scale, Action<int, int> plot)
    {
        for (int k = 0; k < text.Length; k++)
            for (int y = 0; y < GlyphHeight; y++)
                for (int x = 0; x < GlyphWidth; x++)
                {
                    if (!Ink(text[k], x, y)) continue;
                    int px = left + (k * (GlyphWidth + 1) + x) * scale, py = top + y * scale;
                    for (int sy = 0; sy < scale; sy++)
                        for (int sx = 0; sx < scale; sx++) plot(px + sx, py + sy);
                }
    }
}
