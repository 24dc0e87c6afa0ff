using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TransferKit.Toolkit.Threading;

namespace TransferKit.Toolkit.Kernels;

/// <summary>
/// Single-precision GEMM, C = alpha·op(A)·op(B) + beta·C (row-major), cache-blocked and packed in the BLIS manner:
/// B is packed in KC×NR strips, A in MR×KC strips, and a register-blocked micro-kernel computes each MR×NR tile:
/// 8×32 with AVX-512 (16 zmm accumulators), 6×16 with AVX2 (12 ymm accumulators), or a scalar 4×4 tile. With few
/// rows of C (at most <see cref="UnpackedBMaxRows"/>) a row-major B is not packed but read in place.
/// Columns of C are split across threads; each thread packs its own panels (no shared writes).
/// <see cref="Reference.ReferenceGemm"/> is the plain triple loop it must equal up to summation order.
/// </summary>
public static unsafe class Gemm
{
    const int KC = 256;   // depth of a packed panel: a KC×NR strip of B (32 KB) stays in L1
    const int MC = 144;   // rows of A per packed block (144 KB, L2); a multiple of every MR (8, 6, 4)
    const int NC = 1024;  // columns of B per packed panel (1 MB, L2/L3)

    /// <summary>
    /// Rows of C at most for which a row-major B is read in place instead of packed: each packed B element would serve
    /// only m multiply-adds, so copying it costs more than the strided reads it saves (a convolution with 64 filters).
    /// Up to MC, A is one block and each strip of B is read once; beyond, every block of A would read B again.
    /// </summary>
    public const int UnpackedBMaxRows = MC;

    /// <summary>
    /// Rows of C at most for which A·Bᵀ (B stored as rows of length k: a layer's weights [N, K]) is computed as dot
    /// products of contiguous rows: a classifier on one image would otherwise pack all of B to use each value once.
    /// </summary>
    public const int DotMaxRows = 4;

    /// <summary>
    /// At most how many NR-wide strips ahead an in-place B is prefetched (into L2): far enough for a strip's rows to
    /// arrive from memory while the strips before it are multiplied; fewer when a quarter of L2 holds fewer.
    /// </summary>
    const int InPlacePrefetchStrips = 8;

    /// <summary>Work (m·n·k) below which the call stays on one thread.</summary>
    const long ParallelThreshold = 1 << 18;

    /// <summary>Rows per strip of <see cref="PackedA.Wide"/>: two zmm registers of one depth's weights.</summary>
    const int WideRows = 32;

    /// <summary>
    /// Columns below which a packed A (fixed weights) goes through <see cref="FewColumns"/> on AVX-512: 7×7, 13×13 and
    /// 14×14 planes at batch 1 (49, 169, 196 columns) fill 32-column tiles by 77, 96 and 94 %, where eight columns at a
    /// time waste at most the last few. One thread, hot caches, packed A, against the 32-column tiles: 256×169×576 82 →
    /// 109 GFLOP/s, 1000×169×512 92 → 101, 96×196×576 87 → 110, 256×196×2304 72 → 96 (576×196×96 85 → 82).
    /// </summary>
    const int FewColumnsBelow = 256;

    /// <summary>
    /// Least depth for <see cref="FewColumns"/>: each tile's pass through the buffer into C costs about as much as a few
    /// dozen depth steps. One thread, hot caches, 49 columns, packed A, against the 32-column tiles: depth 4608 (512
    /// rows) 73 → 104–108 GFLOP/s, 960 (320 rows) 83 → 110, 320 (1280 rows) 82 → 106, 160 (960 rows) 85 → 101, 96 (576
    /// rows) 81 → 98; at depth 24 (144 rows) even.
    /// </summary>
    const int FewColumnsMinDepth = 64;

    /// <summary>
    /// Whether a product with A packed beforehand (and B row-major) goes through <see cref="FewColumns"/>: also only
    /// where the last 32-row strip is nearly full (<see cref="FewColumnsMaxPadding"/>).
    /// </summary>
    internal static bool TakesFewColumns(int m, int n, int k) =>
        Tile.MR == 8 && m >= WideRows && k >= FewColumnsMinDepth && (n < FewColumnsBelow || (n < 2 * FewColumnsBelow && k >= DeepFewColumnsMinDepth)) &&
        (long)(WideRowsPadded(m) - m) * FewColumnsMaxPadding <= WideRowsPadded(m);

    /// <summary>Rows of A rounded up to whole <see cref="WideRows"/> strips.</summary>
    static int WideRowsPadded(int m) => (m + WideRows - 1) / WideRows * WideRows;

    /// <summary>
    /// <see cref="FewColumns"/> computes whole 32-row strips: it takes a product only where the padding rows are at most
    /// one in this many of the strips' rows. One thread, hot caches, packed A, against the 8-row tiles: 48 rows (16 of
    /// 64 padding) 83 vs 96–103 GFLOP/s at 169 and 338 columns, depth 256 and 384; 40 rows 69 vs 96; 80 rows (one in six)
    /// 94 vs 99; 144 rows (one in ten, depth 64) 84 vs 91; 1000 rows (one in 43) 108 vs 104.
    /// </summary>
    const int FewColumnsMaxPadding = 16;

    /// <summary>
    /// Least depth for <see cref="FewColumns"/> from <see cref="FewColumnsBelow"/> up to twice as many columns (two
    /// 13×13 or 14×14 images side by side): there it wins only where the depth pays for the buffer. One thread, hot
    /// caches: 256×338×576 100 → 113 GFLOP/s, 1000×338×512 104 → 108, 160×392×576 105 → 112; but 576×392×96 109 → 101,
    /// 384×392×64 107 → 95.
    /// </summary>
    const int DeepFewColumnsMinDepth = 256;

    /// <summary>Threads used; follows <see cref="Workers.MaxThreads"/>.</summary>
    public static int MaxThreads { get => Workers.MaxThreads; set => Workers.MaxThreads = value; }

    /// <summary>Which micro-kernel runs on this machine.</summary>
    public static string Path => Vector512.IsHardwareAccelerated ? "avx512 8x32" : Vector256.IsHardwareAccelerated ? "avx2 6x16" : "scalar 4x4";

    static (int MR, int NR) Tile => Vector512.IsHardwareAccelerated ? (8, 32) : Vector256.IsHardwareAccelerated ? (6, 16) : (4, 4);

    [ThreadStatic] static float[]? _packA;
    [ThreadStatic] static float[]? _packB;
    [ThreadStatic] static float[]? _tile;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, MaxThreads);

    /// <summary>
    /// As above with an explicit thread limit (1 when the caller already runs one GEMM per thread). When C is final,
    /// <paramref name="done"/> gets each row's finished columns as (<paramref name="doneOffset"/> + i·ldc + j0, j1 − j0),
    /// called by the thread that computed them, right after it finished its columns of every row.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int maxThreads, ConvEpilogue? done = null, long doneOffset = 0) =>
        Sgemm(transA, transB, m, n, k, alpha, a, lda, null, b, ldb, beta, c, ldc, maxThreads, done, doneOffset);

    /// <summary>
    /// A row-major m×k matrix A packed once into the micro-kernel's strips, for a left operand that stays fixed over many
    /// products (a convolution's weights at inference): every depth block of KC is one panel of all rows, MR-tall
    /// strips zero-padded at the bottom, so block (pc, ic) starts at PaddedRows·pc + ic·kc.
    /// </summary>
    public sealed class PackedA
    {
        internal readonly float[] Data;
        internal readonly int PaddedRows;
        public int Rows { get; }
        public int Depth { get; }

        /// <summary>The same rows in <see cref="WideRows"/>-tall strips (block (pc, t) at WidePadded·pc + t·32·kc), built on first use.</summary>
        float[]? _wide;

        /// <summary>Rows padded to a multiple of <see cref="WideRows"/>.</summary>
        internal int WidePadded => WideRowsPadded(Rows);

        /// <summary>
        /// The rows in strips of <see cref="WideRows"/> (for each depth p, 32 consecutive rows, zero-padded) for
        /// <see cref="FewColumns"/>, laid out once from the MR-tall strips (each 32-row strip is four 8-row ones side by side).
        /// </summary>
        internal float[] Wide()
        {
            if (Volatile.Read(ref _wide) is { } w) return w;
            int wide = WidePadded, mr = 8;
            var d = new float[(long)wide * Depth + 64];
            fixed (float* src = Data, dst = d)
                for (int pc = 0; pc < Depth; pc += KC)
                {
                    int kc = Math.Min(KC, Depth - pc);
                    for (int i0 = 0; i0 < PaddedRows; i0 += mr)
                    {
                        float* from = src + (long)PaddedRows * pc + (long)i0 * kc;
                        float* to = dst + (long)wide * pc + (long)(i0 / WideRows) * WideRows * kc + i0 % WideRows;
                        for (int p = 0; p < kc; p++) Unsafe.CopyBlockUnaligned(to + p * WideRows, from + p * mr, (uint)(mr * sizeof(float)));
                    }
                }
            Interlocked.CompareExchange(ref _wide, d, null);
            return _wide!;
        }

        internal PackedA(ReadOnlySpan<float> a, int m, int k)
        {
            Rows = m; Depth = k;
            int mr = Tile.MR;
            PaddedRows = (m + mr - 1) / mr * mr;
            Data = new float[(long)PaddedRows * k + 64];
            fixed (float* pa = a, d = Data)
                for (int pc = 0; pc < k; pc += KC)
                    PackA(pa + pc, k, 1, m, Math.Min(KC, k - pc), mr, d + (long)PaddedRows * pc);
        }
    }

    /// <summary>Packs a row-major m×k A (row stride k) for <see cref="Sgemm(PackedA, int, ReadOnlySpan{float}, int, Span{float}, int, int, ConvEpilogue?, long)"/>.</summary>
    public static PackedA Pack(ReadOnlySpan<float> a, int m, int k) => new(a, m, k);

    /// <summary>C = A·B with A packed beforehand (B row-major k×n, C row-major m×n); threads and <paramref name="done"/> as in the general form.</summary>
    public static void Sgemm(PackedA a, int n, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, int maxThreads, ConvEpilogue? done = null, long doneOffset = 0) =>
        Sgemm(false, false, a.Rows, n, a.Depth, 1, default, a.Depth, a, b, ldb, 0, c, ldc, maxThreads, done, doneOffset);

    /// <summary>
    /// C = finish(op(A)·op(B)) for a convolution (alpha 1, beta 0): each element gets its row's bias, its residual and
    /// its bounds in registers as its tile is stored (after the last depth block), before <paramref name="done"/> sees it.
    /// A is packed beforehand when <paramref name="packed"/> is given (then <paramref name="a"/> is ignored).
    /// </summary>
    internal static unsafe void Sgemm(int m, int n, int k, ReadOnlySpan<float> a, PackedA? packed, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int maxThreads, ConvFinish* finish, ConvEpilogue? done, long doneOffset) =>
        Sgemm(false, false, m, n, k, 1, a, k, packed, b, ldb, 0, c, ldc, maxThreads, done, doneOffset, finish);

    static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, PackedA? packed,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int maxThreads, ConvEpilogue? done, long doneOffset, ConvFinish* finish = null)
    {
        if (finish != null && !finish->Acts) finish = null;
        if (m <= 0 || n <= 0) return;
        void Done(int j0, int j1)
        {
            if (done == null) return;
            for (int i = 0; i < m; i++) done((int)(doneOffset + (long)i * ldc + j0), j1 - j0);
        }
        if (k <= 0 || alpha == 0)
        {
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                if (beta == 0) row.Clear(); else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
            if (finish != null) fixed (float* pc0 = c) finish->ApplyInPlace(pc0, ldc, m, n, 0);
            Done(0, n);
            return;
        }
        // Element (i, p) of op(A) is a[i·rsA + p·csA]; (p, j) of op(B) is b[p·rsB + j·csB].
        int rsA = transA ? 1 : lda, csA = transA ? lda : 1;
        int rsB = transB ? 1 : ldb, csB = transB ? ldb : 1;
        var (mr, nr) = Tile;
        fixed (float* pa = a, pb = b, pc = c, pp = packed?.Data)
        {
            float* A = pa, B = pb, C = pc, P = pp;
            int mPad = packed?.PaddedRows ?? 0;
            long work = (long)m * n * k;
            int threads = work < ParallelThreshold ? 1 : Math.Min(maxThreads, (n + nr - 1) / nr);
            ConvFinish* F = finish;
            if (m <= DotMaxRows && csA == 1 && rsB == 1 && P == null)
            {
                Dots(A, rsA, B, csB, C, ldc, m, n, k, alpha, beta, work < ParallelThreshold ? 1 : Math.Min(maxThreads, (n + 63) / 64));
                // The finish after the sums, as the edge tiles take it: the route does not depend on whether there is one.
                if (F != null) F->ApplyInPlace(C, ldc, m, n, 0);
                Done(0, n);
                return;
            }
            if (packed != null && csB == 1 && TakesFewColumns(m, n, k))
            {
                var wide = packed.Wide();
                int wideStrips = (m + WideRows - 1) / WideRows, wpad = packed.WidePadded;
                int ft = work < ParallelThreshold ? 1 : Math.Min(maxThreads, wideStrips * Math.Max(1, n / 8));
                fixed (float* pw = wide)
                {
                    float* W = pw;
                    if (ft <= 1) FewColumns(W, wpad, B, rsB, C, ldc, m, 0, wideStrips, 0, n, k, alpha, beta, F);
                    else if (wideStrips % ft == 0)
                        Workers.Run(ft, t => FewColumns(W, wpad, B, rsB, C, ldc, m, wideStrips * t / ft, wideStrips * (t + 1) / ft, 0, n, k, alpha, beta, F));
                    else
                        Workers.Run(ft, t => FewColumnPieces(W, wpad, B, rsB, C, ldc, m, wideStrips, ft, t, n, k, alpha, beta, F));
                }
                Done(0, n);
                return;
            }
            if (threads <= 1) { Blocked(A, rsA, csA, B, rsB, csB, C, ldc, m, 0, n, k, alpha, beta, mr, nr, P, mPad, F); Done(0, n); return; }
            // Split columns into NR-aligned ranges, one per thread.
            int strips = (n + nr - 1) / nr;
            Workers.Run(threads, t =>
            {
                int j0 = (int)((long)strips * t / threads) * nr, j1 = Math.Min(n, (int)((long)strips * (t + 1) / threads) * nr);
                if (j1 > j0) { Blocked(A, rsA, csA, B, rsB, csB, C, ldc, m, j0, j1, k, alpha, beta, mr, nr, P, mPad, F); Done(j0, j1); }
            });
        }
    }

    /// <summary>
    /// The five-loop blocked GEMM over columns [j0, j1) of C; with <paramref name="packed"/> (rows padded to
    /// <paramref name="mPad"/>) A is not packed again; with <paramref name="finish"/> the last depth block finishes
    /// each tile as it stores it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Blocked(float* A, int rsA, int csA, float* B, int rsB, int csB, float* C, int ldc, int m, int j0, int j1, int k,
        float alpha, float beta, int mr, int nr, float* packed = null, int mPad = 0, ConvFinish* finish = null)
    {
        var packA = _packA ??= new float[MC * KC + 64]; // MC is a multiple of MR, so padded strips never overrun
        var packB = _packB ??= new float[KC * (NC + 32) + 64];
        var tile = _tile ??= new float[8 * 32];
        fixed (float* pA = packA, pB = packB, acc = tile)
        {
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                for (int pc = 0; pc < k; pc += KC)
                {
                    int kc = Math.Min(KC, k - pc);
                    // The first depth block applies beta; later ones accumulate.
                    float betaHere = pc == 0 ? beta : 1f;
                    ConvFinish* fin = pc + kc >= k ? finish : null;
                    // With few rows of C a row-major B is read in place (row stride rsB); only a last, partial strip
                    // is packed, so the kernel never reads past the matrix.
                    float* bBlock = B + (long)pc * rsB + (long)jc * csB;
                    bool inPlace = csB == 1 && m <= UnpackedBMaxRows;
                    int fullStrips = inPlace ? nc / nr * nr : 0;
                    if (!inPlace) PackB(bBlock, rsB, csB, kc, nc, nr, pB);
                    else if (fullStrips < nc) PackB(bBlock + fullStrips, rsB, csB, kc, nc - fullStrips, nr, pB);
                    // Strips go in chunks whose B fits in half of L1: each row tile of C then takes the chunk's strips
                    // one after the other, so C is written in runs of chunk·nr floats per row rather than nr (a shallow
                    // GEMM — a 1×1 convolution with 16 input channels — wrote 96 rows 128 bytes at a time).
                    int chunk = Math.Max(1, CacheSizes.L1Data / 2 / (kc * nr * sizeof(float)));
                    // B read in place is kc row streams a strip wide, more than the hardware prefetchers follow: the
                    // strips this far ahead are asked for in every row, into L2, while a chunk is used — as far as a
                    // quarter of L2 holds (at most InPlacePrefetchStrips), and at least the next chunk. (Four strips
                    // ahead into L1 left MobileNetV2's projections waiting on memory.)
                    int ahead = Math.Max(Math.Clamp(CacheSizes.L2 / 4 / (kc * nr * sizeof(float)), 1, InPlacePrefetchStrips), chunk) * nr;
                    for (int ic = 0; ic < m; ic += MC)
                    {
                        int mc = Math.Min(MC, m - ic);
                        float* blockA = packed != null ? packed + (long)mPad * pc + (long)ic * kc : pA;
                        if (packed == null) PackA(A + (long)ic * rsA + (long)pc * csA, rsA, csA, mc, kc, mr, pA);
                        for (int jr0 = 0; jr0 < nc; jr0 += chunk * nr)
                        {
                            int jr1 = Math.Min(nc, jr0 + chunk * nr);
                            if (ic == 0 && Sse.IsSupported)
                                for (int jr = jr0; jr < jr1 && jr + ahead < fullStrips; jr += nr)
                                {
                                    float* next = bBlock + jr + ahead;
                                    for (int p = 0; p < kc; p++)
                                        for (int q = 0; q < nr; q += 16) Sse.Prefetch1(next + (long)p * rsB + q);
                                }
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int mrEff = Math.Min(mr, mc - ir);
                                float* aStrip = blockA + (long)ir * kc;
                                for (int jr = jr0; jr < jr1; jr += nr)
                                {
                                    int nrEff = Math.Min(nr, nc - jr);
                                    float* cTile = C + (long)(ic + ir) * ldc + jc + jr;
                                    bool direct = jr < fullStrips;
                                    float* bStrip = direct ? bBlock + jr : pB + (long)(jr - fullStrips) * kc;
                                    int ldb = direct ? rsB : nr;
                                    // A full tile is merged into C from registers; an edge tile goes through the buffer.
                                    bool full = mrEff == mr && nrEff == nr;
                                    // An edge strip at most half a tile wide takes the half-width kernel: a 13×13
                                    // image's 169 columns are 176 computed rather than 192.
                                    bool half = nrEff <= nr / 2;
                                    if (mr == 8)
                                    {
                                        if (full) Kernel8x32(kc, aStrip, bStrip, ldb, cTile, ldc, alpha, betaHere, fin, ic + ir);
                                        else if (half) Kernel8x16(kc, aStrip, bStrip, ldb, acc, nr);
                                        else Kernel8x32(kc, aStrip, bStrip, ldb, acc, nr, 1, 0, null, 0);
                                    }
                                    else if (mr == 6)
                                    {
                                        if (full) Kernel6x16(kc, aStrip, bStrip, ldb, cTile, ldc, alpha, betaHere, fin, ic + ir);
                                        else if (half) Kernel6x8(kc, aStrip, bStrip, ldb, acc, nr);
                                        else Kernel6x16(kc, aStrip, bStrip, ldb, acc, nr, 1, 0, null, 0);
                                    }
                                    else { KernelScalar(kc, aStrip, bStrip, ldb, acc, mr, nr); full = false; }
                                    if (!full)
                                    {
                                        Merge(acc, nr, cTile, ldc, mrEff, nrEff, alpha, betaHere);
                                        if (fin != null) fin->ApplyInPlace(cTile, ldc, mrEff, nrEff, ic + ir);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// c[i·ldc + j] = alpha·⟨row i of A, row j of B⟩ + beta·c (beta 0 ignores c): A's rows at stride rsA, B's at
    /// stride rsRow, both contiguous in the depth. Columns split across <paramref name="threads"/>; each row of B is
    /// read once for all m rows of A while it is in L1.
    /// </summary>
    static void Dots(float* a, int rsA, float* b, int rsRow, float* c, int ldc, int m, int n, int k, float alpha, float beta, int threads)
    {
        void Range(int j0, int j1)
        {
            if (m == 1 && Avx512F.IsSupported && k >= 32)
            {
                // One row of A (a classifier at batch 1): eight rows of B at a time share each load of A, the last few
                // columns one at a time. Every column's sum is the same expression whether it goes in a group or alone,
                // so the split does not matter. Eight streams of B at once read a matrix from memory faster than four
                // (1000×1280, caches flushed, one thread: 0.29–0.34 ms against 0.31–0.39).
                int j = j0;
                for (; j + 8 <= j1; j += 8)
                {
                    var (d0, d1, d2, d3, d4, d5, d6, d7) = Dot8(a, b + (long)j * rsRow, rsRow, k);
                    Store(c + j, d0); Store(c + j + 1, d1); Store(c + j + 2, d2); Store(c + j + 3, d3);
                    Store(c + j + 4, d4); Store(c + j + 5, d5); Store(c + j + 6, d6); Store(c + j + 7, d7);
                }
                for (; j < j1; j++) Store(c + j, Dot8(a, b + (long)j * rsRow, 0, k).Item1);
                return;

                void Store(float* ci, float dot) { dot *= alpha; *ci = beta == 0 ? dot : dot + beta * *ci; }
            }
            for (int j = j0; j < j1; j++)
            {
                var bj = new ReadOnlySpan<float>(b + (long)j * rsRow, k);
                for (int i = 0; i < m; i++)
                {
                    float dot = alpha * System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<float>(a + (long)i * rsA, k), bj);
                    float* ci = c + (long)i * ldc + j;
                    *ci = beta == 0 ? dot : dot + beta * *ci;
                }
            }
        }
        if (threads <= 1) { Range(0, n); return; }
        Workers.Run(threads, t => Range((int)((long)n * t / threads), (int)((long)n * (t + 1) / threads)));
    }

    /// <summary>
    /// ⟨a, b_r⟩ for the eight rows b_r = b + r·rs (rs 0: one row eight times) of length k ≥ 32: per row two accumulators
    /// over 32 floats a step, a last 16, their sum reduced, then the tail one product at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static (float, float, float, float, float, float, float, float) Dot8(float* a, float* b, long rs, int k)
    {
        float* b1 = b + rs, b2 = b + 2 * rs, b3 = b + 3 * rs, b4 = b + 4 * rs, b5 = b + 5 * rs, b6 = b + 6 * rs, b7 = b + 7 * rs;
        Vector512<float> p0 = default, q0 = default, p1 = default, q1 = default, p2 = default, q2 = default, p3 = default, q3 = default;
        Vector512<float> p4 = default, q4 = default, p5 = default, q5 = default, p6 = default, q6 = default, p7 = default, q7 = default;
        int i = 0;
        for (; i + 32 <= k; i += 32)
        {
            Vector512<float> x = Vector512.Load(a + i), y = Vector512.Load(a + i + 16);
            p0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + i), p0); q0 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b + i + 16), q0);
            p1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b1 + i), p1); q1 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b1 + i + 16), q1);
            p2 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b2 + i), p2); q2 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b2 + i + 16), q2);
            p3 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b3 + i), p3); q3 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b3 + i + 16), q3);
            p4 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b4 + i), p4); q4 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b4 + i + 16), q4);
            p5 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b5 + i), p5); q5 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b5 + i + 16), q5);
            p6 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b6 + i), p6); q6 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b6 + i + 16), q6);
            p7 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b7 + i), p7); q7 = Avx512F.FusedMultiplyAdd(y, Vector512.Load(b7 + i + 16), q7);
        }
        if (i + 16 <= k)
        {
            var x = Vector512.Load(a + i);
            p0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + i), p0); p1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b1 + i), p1);
            p2 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b2 + i), p2); p3 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b3 + i), p3);
            p4 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b4 + i), p4); p5 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b5 + i), p5);
            p6 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b6 + i), p6); p7 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b7 + i), p7);
            i += 16;
        }
        float s0 = Vector512.Sum(p0 + q0), s1 = Vector512.Sum(p1 + q1), s2 = Vector512.Sum(p2 + q2), s3 = Vector512.Sum(p3 + q3);
        float s4 = Vector512.Sum(p4 + q4), s5 = Vector512.Sum(p5 + q5), s6 = Vector512.Sum(p6 + q6), s7 = Vector512.Sum(p7 + q7);
        for (; i < k; i++)
        {
            float x = a[i];
            s0 += x * b[i]; s1 += x * b1[i]; s2 += x * b2[i]; s3 += x * b3[i]; s4 += x * b4[i]; s5 += x * b5[i]; s6 += x * b6[i]; s7 += x * b7[i];
        }
        return (s0, s1, s2, s3, s4, s5, s6, s7);
    }

    /// <summary>Packs a kc×nc block of op(B) into NR-wide strips: strip s holds, for each p, NR consecutive columns (zero-padded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackB(float* b, int rs, int cs, int kc, int nc, int nr, float* dst)
    {
        for (int j = 0; j < nc; j += nr)
        {
            int w = Math.Min(nr, nc - j);
            float* d = dst + (long)j * kc;
            if (cs == 1 && w == nr)
            {
                for (int p = 0; p < kc; p++, d += nr) Unsafe.CopyBlockUnaligned(d, b + (long)p * rs + j, (uint)(nr * sizeof(float)));
                continue;
            }
            if (rs == 1)
            {
                // Transposed B: each of the strip's columns is contiguous in p.
                PackLines(b + (long)j * cs, cs, w, kc, nr, d);
                continue;
            }
            for (int p = 0; p < kc; p++, d += nr)
            {
                float* src = b + (long)p * rs + (long)j * cs;
                int q = 0;
                for (; q < w; q++) d[q] = src[(long)q * cs];
                for (; q < nr; q++) d[q] = 0;
            }
        }
    }

    /// <summary>Packs an mc×kc block of op(A) into MR-tall strips: strip s holds, for each p, MR consecutive rows (zero-padded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackA(float* a, int rs, int cs, int mc, int kc, int mr, float* dst)
    {
        for (int i = 0; i < mc; i += mr)
        {
            int h = Math.Min(mr, mc - i);
            float* d = dst + (long)i * kc;
            if (rs == 1 && h == mr)
            {
                // Transposed A: the MR rows of a column are contiguous.
                for (int p = 0; p < kc; p++, d += mr) Unsafe.CopyBlockUnaligned(d, a + (long)p * cs + i, (uint)(mr * sizeof(float)));
                continue;
            }
            if (cs == 1)
            {
                // Plain A: each of the strip's rows is contiguous in p.
                PackLines(a + (long)i * rs, rs, h, kc, mr, d);
                continue;
            }
            for (int p = 0; p < kc; p++, d += mr)
            {
                float* src = a + (long)i * rs + (long)p * cs;
                int r = 0;
                for (; r < h; r++) d[r] = src[(long)r * rs];
                for (; r < mr; r++) d[r] = 0;
            }
        }
    }

    /// <summary>
    /// d[p·width + q] = src[q·stride + p] for q &lt; lines, p &lt; kc, and 0 for lines ≤ q &lt; width: lines that are
    /// contiguous in p laid across a panel. Groups of 8 lines go through 8×8 transposes (8 depths at a time), the depth
    /// tail and any lines past a multiple of 8 one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackLines(float* src, long stride, int lines, int kc, int width, float* d)
    {
        int qv = Avx.IsSupported ? lines / 8 * 8 : 0, pv = kc / 8 * 8;
        for (int q0 = 0; q0 < qv; q0 += 8)
        {
            float* s0 = src + q0 * stride;
            for (int p0 = 0; p0 < pv; p0 += 8) Transpose8x8(s0 + p0, stride, d + p0 * width + q0, width);
            for (int q = q0; q < q0 + 8; q++)
                for (int p = pv; p < kc; p++) d[p * width + q] = s0[(q - q0) * stride + p];
        }
        for (int q = qv; q < lines; q++)
        {
            float* s1 = src + q * stride;
            for (int p = 0; p < kc; p++) d[p * width + q] = s1[p];
        }
        for (int q = lines; q < width; q++)
            for (int p = 0; p < kc; p++) d[p * width + q] = 0;
    }

    /// <summary>
    /// dst[c·ldd + r] = src[r·lds + c] for r, c &lt; 8: eight rows of 8 floats in, their eight columns out. Pairs of rows
    /// are interleaved (unpack), pairs of pairs combined (shuffle), then the 128-bit halves swapped across (permute):
    /// output c holds (r0[c], …, r7[c]).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(float* src, long lds, float* dst, int ldd)
    {
        Transpose8x8(src, lds, out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7);
        Avx.Store(dst, c0); Avx.Store(dst + ldd, c1); Avx.Store(dst + 2 * ldd, c2); Avx.Store(dst + 3 * ldd, c3);
        Avx.Store(dst + 4 * ldd, c4); Avx.Store(dst + 5 * ldd, c5); Avx.Store(dst + 6 * ldd, c6); Avx.Store(dst + 7 * ldd, c7);
    }

    /// <summary>The 8×8 block at <paramref name="src"/> (row stride <paramref name="lds"/>) transposed into registers: c<i>q</i> is its column q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(float* src, long lds, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2 * lds); var r3 = Avx.LoadVector256(src + 3 * lds);
        var r4 = Avx.LoadVector256(src + 4 * lds); var r5 = Avx.LoadVector256(src + 5 * lds);
        var r6 = Avx.LoadVector256(src + 6 * lds); var r7 = Avx.LoadVector256(src + 7 * lds);
        // t0 = (r0₀ r1₀ r0₁ r1₁ | r0₄ r1₄ r0₅ r1₅), t1 = (r0₂ r1₂ r0₃ r1₃ | r0₆ r1₆ r0₇ r1₇), and so on.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // s0 = (r0₀ r1₀ r2₀ r3₀ | r0₄ r1₄ r2₄ r3₄): column 0 of rows 0–3 and column 4 of rows 0–3.
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(s0, s4, 0x20); c1 = Avx.Permute2x128(s1, s5, 0x20);
        c2 = Avx.Permute2x128(s2, s6, 0x20); c3 = Avx.Permute2x128(s3, s7, 0x20);
        c4 = Avx.Permute2x128(s0, s4, 0x31); c5 = Avx.Permute2x128(s1, s5, 0x31);
        c6 = Avx.Permute2x128(s2, s6, 0x31); c7 = Avx.Permute2x128(s3, s7, 0x31);
    }

    /// <summary>
    /// AVX-512 8×32 tile: 16 zmm accumulators (row r, columns 0–15 and 16–31). Per depth step p: two loads of B
    /// (32 columns), eight broadcasts of A (one per row), sixteen FMAs. Then c[r·ldc + j] = alpha·Σ_p a[p·8 + r]·b[p·ldb + j]
    /// + beta·c[r·ldc + j] (beta 0 ignores c); ldb is 32 for a packed strip, the row stride of B read in place. The loop
    /// body touches no memory but the panels, so the JIT keeps all accumulators in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel8x32(int kc, float* a, float* b, int ldb, float* c, int ldc, float alpha, float beta, ConvFinish* f, int row)
    {
        // Decided before the loop: no call while the accumulators are live (every vector register is caller-saved).
        bool fast = FastFinish(alpha, beta, f);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8; b += ldb;
        }
        if (fast)
        {
            bool addC = beta == 1, hasMin = f != null && f->HasMin, hasMax = f != null && f->HasMax, fixZero = hasMin && f->Min == 0 && !float.IsNegative(f->Min);
            float* bias = f == null || f->Bias == null ? null : f->Bias + row;
            var min = Vector512.Create(hasMin ? f->Min : 0); var max = Vector512.Create(hasMax ? f->Max : 0);
            StoreFast(c, c00, c01, addC, bias, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + ldc, c10, c11, addC, bias == null ? null : bias + 1, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + 2 * ldc, c20, c21, addC, bias == null ? null : bias + 2, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + 3 * ldc, c30, c31, addC, bias == null ? null : bias + 3, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + 4 * ldc, c40, c41, addC, bias == null ? null : bias + 4, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + 5 * ldc, c50, c51, addC, bias == null ? null : bias + 5, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + 6 * ldc, c60, c61, addC, bias == null ? null : bias + 6, hasMin, fixZero, hasMax, min, max);
            StoreFast(c + 7 * ldc, c70, c71, addC, bias == null ? null : bias + 7, hasMin, fixZero, hasMax, min, max);
            return;
        }
        Store512(c, alpha, beta, c00, c01, f, row); Store512(c + ldc, alpha, beta, c10, c11, f, row + 1);
        Store512(c + 2 * ldc, alpha, beta, c20, c21, f, row + 2); Store512(c + 3 * ldc, alpha, beta, c30, c31, f, row + 3);
        Store512(c + 4 * ldc, alpha, beta, c40, c41, f, row + 4); Store512(c + 5 * ldc, alpha, beta, c50, c51, f, row + 5);
        Store512(c + 6 * ldc, alpha, beta, c60, c61, f, row + 6); Store512(c + 7 * ldc, alpha, beta, c70, c71, f, row + 7);
    }

    /// <summary>
    /// Whether an 8×32 tile's rows take <see cref="StoreFast"/>: the common case — alpha 1, beta 0 or 1, a bias and
    /// bounds but no residual — with bounds that are numbers and no upper bound of −0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool FastFinish(float alpha, float beta, ConvFinish* f) =>
        alpha == 1 && (beta == 0 || beta == 1) && Avx512F.IsSupported
        && (f == null || (f->Residual == null && !(f->HasMin && float.IsNaN(f->Min)) && !(f->HasMax && (float.IsNaN(f->Max) || (f->Max == 0 && float.IsNegative(f->Max))))));

    /// <summary>
    /// One row of an 8×32 tile (columns 0–15 and 16–31) into <paramref name="row"/>: + C (<paramref name="addC"/>),
    /// + the bias, then the bounds, with the finish's tests and broadcasts made once per tile and each bound one x86
    /// max or min (<see cref="Store512"/> takes IEEE maximum and minimum, three instructions each). With the bound as
    /// the first operand, vmaxps and vminps return the value itself where it is NaN, and elsewhere the bound or the
    /// value as IEEE does, except for a maximum with +0 at −0, where vmaxps keeps −0 (adding +0 makes it +0 and changes
    /// nothing else: <paramref name="fixZero"/>), and a minimum with −0 at +0 (not taken: <see cref="FastFinish"/>).
    /// So the bits equal <see cref="Store512"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreFast(float* row, Vector512<float> lo, Vector512<float> hi, bool addC, float* bias, bool hasMin, bool fixZero, bool hasMax,
        Vector512<float> min, Vector512<float> max)
    {
        if (addC) { lo += Vector512.Load(row); hi += Vector512.Load(row + 16); }
        if (bias != null) { var b = Vector512.Create(*bias); lo += b; hi += b; }
        if (hasMin) { lo = Avx512F.Max(min, lo); hi = Avx512F.Max(min, hi); }
        if (fixZero) { lo += Vector512<float>.Zero; hi += Vector512<float>.Zero; }
        if (hasMax) { lo = Avx512F.Min(max, lo); hi = Avx512F.Min(max, hi); }
        lo.Store(row); hi.Store(row + 16);
    }

    /// <summary><see cref="StoreFast(float*, Vector512{float}, Vector512{float}, bool, float*, bool, bool, bool, Vector512{float}, Vector512{float})"/> for one ymm of a row (a few-column tile's eight columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreFast(float* row, Vector256<float> v, bool addC, float* bias, bool hasMin, bool fixZero, bool hasMax, Vector256<float> min, Vector256<float> max)
    {
        if (addC) v += Vector256.Load(row);
        if (bias != null) v += Vector256.Create(*bias);
        if (hasMin) v = Avx.Max(min, v);
        if (fixZero) v += Vector256<float>.Zero;
        if (hasMax) v = Avx.Min(max, v);
        v.Store(row);
    }

    /// <summary>
    /// Thread <paramref name="t"/>'s share of a few-column product whose strips do not divide evenly among the
    /// <paramref name="threads"/> threads (MobileNetV2's 96 and 160 rows at batch 1 are 3 and 5 strips; 32 rows one):
    /// each strip is cut into <paramref name="threads"/> column ranges on 8-column boundaries, and the thread takes
    /// its contiguous run of the strips × ranges pieces, so every thread computes the same number of pieces instead of
    /// one thread the extra strip. A piece's elements sum their depth as in a whole strip: the same bits either way.
    /// </summary>
    static void FewColumnPieces(float* wide, int widePadded, float* B, int rsB, float* C, int ldc, int m, int strips, int threads, int t,
        int n, int k, float alpha, float beta, ConvFinish* finish)
    {
        int pieces = strips * threads, p0 = pieces * t / threads, p1 = pieces * (t + 1) / threads;
        int Edge(int part) => part >= threads ? n : Math.Min(n, (int)((long)n * part / threads) / 8 * 8);
        for (int s = p0 / threads; s * threads < p1; s++)
        {
            int first = Math.Max(p0 - s * threads, 0), last = Math.Min(p1 - s * threads, threads);
            int j0 = Edge(first), j1 = Edge(last);
            if (j1 > j0) FewColumns(wide, widePadded, B, rsB, C, ldc, m, s, s + 1, j0, j1, k, alpha, beta, finish);
        }
    }

    /// <summary>
    /// C = alpha·A·B + beta·C over the <see cref="WideRows"/>-row strips [t0, t1) of A and the columns [j0, j1) of B for few columns: the vector runs
    /// down the rows (two zmm of a strip's 32 rows per depth), the broadcasts along a row of B read in place, eight
    /// columns at a time and then four, two and one. The accumulators stay in registers over <see cref="FewColumnsDepth"/>
    /// of the depth (several packed blocks of KC), then go through a 32×8 buffer into C (transposed back to rows), the
    /// last depth range finished by <paramref name="finish"/>. Every element sums its depth in order, as the other kernels do.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void FewColumns(float* wide, int widePadded, float* B, int rsB, float* C, int ldc, int m, int t0, int t1, int j0, int j1, int k,
        float alpha, float beta, ConvFinish* finish)
    {
        float* tile = stackalloc float[WideRows * 8];
        for (int d0 = 0; d0 < k; d0 += FewColumnsDepth)
        {
            int d1 = Math.Min(k, d0 + FewColumnsDepth);
            float betaHere = d0 == 0 ? beta : 1f;
            ConvFinish* fin = d1 >= k ? finish : null;
            for (int t = t0; t < t1; t++)
            {
                var panel = new WidePanel(wide, widePadded, t, k, d0, d1);
                int i0 = t * WideRows, rows = Math.Min(WideRows, m - i0);
                for (int j = j0; j < j1;)
                {
                    int w = j1 - j >= 8 ? 8 : j1 - j >= 4 ? 4 : j1 - j >= 2 ? 2 : 1;
                    float* bj = B + (long)d0 * rsB + j;
                    // The first group also asks for the next strip's weights, into L2: the strips stream from
                    // memory (a ResNet-18 7×7 layer's 9 MB), and the other groups reread them from L2.
                    if (w == 8) Kernel32x8(panel, bj, rsB, tile, j == j0 && t + 1 < t1);
                    else if (w == 4) Kernel32x4(panel, bj, rsB, tile);
                    else if (w == 2) Kernel32x2(panel, bj, rsB, tile);
                    else Kernel32x1(panel, bj, rsB, tile);
                    float* c = C + (long)i0 * ldc + j;
                    if (w == 8) { MergeEight(tile, c, ldc, rows, i0, alpha, betaHere, fin); j += w; continue; }
                    for (int r = 0; r < rows; r++)
                    {
                        float* row = c + (long)r * ldc;
                        if (betaHere == 0) for (int q = 0; q < w; q++) row[q] = alpha * tile[q * WideRows + r];
                        else if (betaHere == 1) for (int q = 0; q < w; q++) row[q] = alpha * tile[q * WideRows + r] + row[q];
                        else for (int q = 0; q < w; q++) row[q] = alpha * tile[q * WideRows + r] + betaHere * row[q];
                        // The finish one value at a time: a pass per row of one to four values cost more in calls than in work.
                        if (fin != null)
                        {
                            float b = fin->Bias != null ? fin->Bias[i0 + r] : 0;
                            for (int q = 0; q < w; q++) row[q] = fin->Apply(fin->Bias != null ? row[q] + b : row[q], row + q);
                        }
                    }
                    j += w;
                }
            }
        }
    }

    /// <summary>
    /// C[r][q] = alpha·tile[q·32 + r] + beta·C[r][q] (beta 0 ignores C), finished by <paramref name="fin"/>, for the
    /// <paramref name="rows"/> rows of an eight-column few-column tile: 8×8 transposes bring each row's eight values
    /// together, then one ymm per row takes the same operations as <see cref="Store256"/> (a per-row pass through
    /// <see cref="ConvFinish.ApplyInPlace(float*, int, int)"/> cost a quarter of a 320-deep tile).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MergeEight(float* tile, float* c, int ldc, int rows, int row0, float alpha, float beta, ConvFinish* fin)
    {
        if (FastFinish(alpha, beta, fin) && rows % 8 == 0)
        {
            // The common case as the 8×32 tiles store it (StoreFast): the transposed rows straight from registers.
            bool addC = beta == 1, hasMin = fin != null && fin->HasMin, hasMax = fin != null && fin->HasMax, fixZero = hasMin && fin->Min == 0 && !float.IsNegative(fin->Min);
            float* bias = fin == null || fin->Bias == null ? null : fin->Bias + row0;
            var min = Vector256.Create(hasMin ? fin->Min : 0); var max = Vector256.Create(hasMax ? fin->Max : 0);
            for (int g0 = 0; g0 < rows; g0 += 8)
            {
                Transpose8x8(tile + g0, WideRows, out var v0, out var v1, out var v2, out var v3, out var v4, out var v5, out var v6, out var v7);
                float* row = c + (long)g0 * ldc, b = bias == null ? null : bias + g0;
                StoreFast(row, v0, addC, b, hasMin, fixZero, hasMax, min, max); StoreFast(row + ldc, v1, addC, b == null ? null : b + 1, hasMin, fixZero, hasMax, min, max);
                StoreFast(row + 2 * ldc, v2, addC, b == null ? null : b + 2, hasMin, fixZero, hasMax, min, max);
                StoreFast(row + 3 * ldc, v3, addC, b == null ? null : b + 3, hasMin, fixZero, hasMax, min, max);
                StoreFast(row + 4 * ldc, v4, addC, b == null ? null : b + 4, hasMin, fixZero, hasMax, min, max);
                StoreFast(row + 5 * ldc, v5, addC, b == null ? null : b + 5, hasMin, fixZero, hasMax, min, max);
                StoreFast(row + 6 * ldc, v6, addC, b == null ? null : b + 6, hasMin, fixZero, hasMax, min, max);
                StoreFast(row + 7 * ldc, v7, addC, b == null ? null : b + 7, hasMin, fixZero, hasMax, min, max);
            }
            return;
        }
        float* t = stackalloc float[64];
        for (int g0 = 0; g0 < rows; g0 += 8)
        {
            Transpose8x8(tile + g0, WideRows, t, 8);   // t[r·8 + q] = tile[q·32 + g0 + r]
            int n = Math.Min(8, rows - g0);
            for (int r = 0; r < n; r++)
            {
                float* row = c + (long)(g0 + r) * ldc;
                var v = Vector256.Load(t + r * 8);
                if (alpha != 1) v *= Vector256.Create(alpha);
                if (beta == 1) v += Vector256.Load(row);
                else if (beta != 0) v = Vector256.FusedMultiplyAdd(Vector256.Create(beta), Vector256.Load(row), v);
                if (fin != null) v = fin->Apply(v, fin->Bias != null ? fin->Bias[row0 + g0 + r] : 0, row);
                v.Store(row);
            }
        }
    }

    /// <summary>Depth a few-column tile sums in registers before it goes into C: four packed blocks (its rows of B, 49 columns wide, stay in L2).</summary>
    const int FewColumnsDepth = 4 * KC;

    /// <summary>Strip t of <see cref="PackedA.Wide"/> over the depth [d0, d1), which starts and ends on packed blocks of KC (the last may be short).</summary>
    readonly struct WidePanel(float* wide, int widePadded, int t, int k, int d0, int d1)
    {
        public readonly int D0 = d0, D1 = d1, K = k;

        /// <summary>The strip's first depth in the block starting at pc (KC-aligned), and that block's depth.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Block(int pc, out int kc)
        {
            kc = Math.Min(KC, K - pc);
            return wide + (long)widePadded * pc + (long)t * WideRows * kc;
        }
    }

    /// <summary>
    /// 32 rows × 8 columns: 16 zmm accumulators; per depth two loads of A, eight broadcasts of B, sixteen FMAs.
    /// tile[q·32 + r] = Σ_p a[p·32 + r]·b[p·ldb + q]; with <paramref name="prefetchNext"/> the next strip's same depths are prefetched into L2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel32x8(in WidePanel panel, float* b, int ldb, float* tile, bool prefetchNext)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int pc = panel.D0; pc < panel.D1; pc += KC)
        {
            float* a = panel.Block(pc, out int kc);
            long next = (long)WideRows * kc;   // the same depth in the next strip of this block
            for (int p = 0; p < kc; p++)
            {
                var a0 = Vector512.Load(a);
                var a1 = Vector512.Load(a + 16);
                if (prefetchNext) { Sse.Prefetch1(a + next); Sse.Prefetch1(a + next + 16); }
                var x = Vector512.Create(b[0]); c00 = Vector512.FusedMultiplyAdd(a0, x, c00); c01 = Vector512.FusedMultiplyAdd(a1, x, c01);
                x = Vector512.Create(b[1]); c10 = Vector512.FusedMultiplyAdd(a0, x, c10); c11 = Vector512.FusedMultiplyAdd(a1, x, c11);
                x = Vector512.Create(b[2]); c20 = Vector512.FusedMultiplyAdd(a0, x, c20); c21 = Vector512.FusedMultiplyAdd(a1, x, c21);
                x = Vector512.Create(b[3]); c30 = Vector512.FusedMultiplyAdd(a0, x, c30); c31 = Vector512.FusedMultiplyAdd(a1, x, c31);
                x = Vector512.Create(b[4]); c40 = Vector512.FusedMultiplyAdd(a0, x, c40); c41 = Vector512.FusedMultiplyAdd(a1, x, c41);
                x = Vector512.Create(b[5]); c50 = Vector512.FusedMultiplyAdd(a0, x, c50); c51 = Vector512.FusedMultiplyAdd(a1, x, c51);
                x = Vector512.Create(b[6]); c60 = Vector512.FusedMultiplyAdd(a0, x, c60); c61 = Vector512.FusedMultiplyAdd(a1, x, c61);
                x = Vector512.Create(b[7]); c70 = Vector512.FusedMultiplyAdd(a0, x, c70); c71 = Vector512.FusedMultiplyAdd(a1, x, c71);
                a += WideRows; b += ldb;
            }
        }
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
    }

    /// <summary>32 rows × 4 columns, as <see cref="Kernel32x8"/>: 8 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel32x4(in WidePanel panel, float* b, int ldb, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int pc = panel.D0; pc < panel.D1; pc += KC)
        {
            float* a = panel.Block(pc, out int kc);
            for (int p = 0; p < kc; p++)
            {
                var a0 = Vector512.Load(a);
                var a1 = Vector512.Load(a + 16);
                var x = Vector512.Create(b[0]); c00 = Vector512.FusedMultiplyAdd(a0, x, c00); c01 = Vector512.FusedMultiplyAdd(a1, x, c01);
                x = Vector512.Create(b[1]); c10 = Vector512.FusedMultiplyAdd(a0, x, c10); c11 = Vector512.FusedMultiplyAdd(a1, x, c11);
                x = Vector512.Create(b[2]); c20 = Vector512.FusedMultiplyAdd(a0, x, c20); c21 = Vector512.FusedMultiplyAdd(a1, x, c21);
                x = Vector512.Create(b[3]); c30 = Vector512.FusedMultiplyAdd(a0, x, c30); c31 = Vector512.FusedMultiplyAdd(a1, x, c31);
                a += WideRows; b += ldb;
            }
        }
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
    }

    /// <summary>32 rows × 2 columns, as <see cref="Kernel32x8"/>: 4 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel32x2(in WidePanel panel, float* b, int ldb, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        for (int pc = panel.D0; pc < panel.D1; pc += KC)
        {
            float* a = panel.Block(pc, out int kc);
            for (int p = 0; p < kc; p++)
            {
                var a0 = Vector512.Load(a);
                var a1 = Vector512.Load(a + 16);
                var x = Vector512.Create(b[0]); c00 = Vector512.FusedMultiplyAdd(a0, x, c00); c01 = Vector512.FusedMultiplyAdd(a1, x, c01);
                x = Vector512.Create(b[1]); c10 = Vector512.FusedMultiplyAdd(a0, x, c10); c11 = Vector512.FusedMultiplyAdd(a1, x, c11);
                a += WideRows; b += ldb;
            }
        }
        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
    }

    /// <summary>32 rows × 1 column, as <see cref="Kernel32x8"/>: 2 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel32x1(in WidePanel panel, float* b, int ldb, float* tile)
    {
        Vector512<float> c00 = default, c01 = default;
        for (int pc = panel.D0; pc < panel.D1; pc += KC)
        {
            float* a = panel.Block(pc, out int kc);
            for (int p = 0; p < kc; p++)
            {
                var x = Vector512.Create(b[0]);
                c00 = Vector512.FusedMultiplyAdd(Vector512.Load(a), x, c00); c01 = Vector512.FusedMultiplyAdd(Vector512.Load(a + 16), x, c01);
                a += WideRows; b += ldb;
            }
        }
        c00.Store(tile); c01.Store(tile + 16);
    }

    /// <summary>
    /// AVX-512 8×16 tile for an edge strip at most 16 columns wide: 8 zmm accumulators; per depth step one load of B
    /// (the strip's first 16 columns), eight broadcasts of A, eight FMAs. Writes acc[r·ldt + j] = Σ_p a[p·8 + r]·b[p·ldb + j]
    /// for j &lt; 16; the caller merges the valid corner into C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel8x16(int kc, float* a, float* b, int ldb, float* acc, int ldt)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += 8; b += ldb;
        }
        c0.Store(acc); c1.Store(acc + ldt); c2.Store(acc + 2 * ldt); c3.Store(acc + 3 * ldt);
        c4.Store(acc + 4 * ldt); c5.Store(acc + 5 * ldt); c6.Store(acc + 6 * ldt); c7.Store(acc + 7 * ldt);
    }

    /// <summary>AVX2 6×8 tile for an edge strip at most 8 columns wide, as <see cref="Kernel8x16"/>: 6 ymm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel6x8(int kc, float* a, float* b, int ldb, float* acc, int ldt)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            a += 6; b += ldb;
        }
        c0.Store(acc); c1.Store(acc + ldt); c2.Store(acc + 2 * ldt); c3.Store(acc + 3 * ldt); c4.Store(acc + 4 * ldt); c5.Store(acc + 5 * ldt);
    }

    /// <summary>
    /// One row (row <paramref name="r"/> of C) of a 32-wide tile: row = alpha·(lo, hi) + beta·row (beta 0 ignores row),
    /// then finished by <paramref name="f"/> (bias of row r, residual, bounds) when given.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store512(float* row, float alpha, float beta, Vector512<float> lo, Vector512<float> hi, ConvFinish* f, int r)
    {
        if (alpha != 1) { var va = Vector512.Create(alpha); lo *= va; hi *= va; }
        if (beta == 1) { lo += Vector512.Load(row); hi += Vector512.Load(row + 16); }
        else if (beta != 0)
        {
            var vb = Vector512.Create(beta);
            lo = Vector512.FusedMultiplyAdd(vb, Vector512.Load(row), lo);
            hi = Vector512.FusedMultiplyAdd(vb, Vector512.Load(row + 16), hi);
        }
        if (f != null)
        {
            float b = f->Bias != null ? f->Bias[r] : 0;
            lo = f->Apply(lo, b, row); hi = f->Apply(hi, b, row + 16);
        }
        lo.Store(row); hi.Store(row + 16);
    }

    /// <summary>One row of a 16-wide tile, as <see cref="Store512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store256(float* row, float alpha, float beta, Vector256<float> lo, Vector256<float> hi, ConvFinish* f, int r)
    {
        if (alpha != 1) { var va = Vector256.Create(alpha); lo *= va; hi *= va; }
        if (beta == 1) { lo += Vector256.Load(row); hi += Vector256.Load(row + 8); }
        else if (beta != 0)
        {
            var vb = Vector256.Create(beta);
            lo = Vector256.FusedMultiplyAdd(vb, Vector256.Load(row), lo);
            hi = Vector256.FusedMultiplyAdd(vb, Vector256.Load(row + 8), hi);
        }
        if (f != null)
        {
            float b = f->Bias != null ? f->Bias[r] : 0;
            lo = f->Apply(lo, b, row); hi = f->Apply(hi, b, row + 8);
        }
        lo.Store(row); hi.Store(row + 8);
    }

    /// <summary>
    /// AVX2 6×16 tile: 12 ymm accumulators (row r, columns 0–7 and 8–15); per depth step two B loads, six broadcasts,
    /// twelve FMAs. Then c[r·ldc + j] = alpha·Σ_p a[p·6 + r]·b[p·ldb + j] + beta·c[r·ldc + j] (beta 0 ignores c).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel6x16(int kc, float* a, float* b, int ldb, float* c, int ldc, float alpha, float beta, ConvFinish* f, int row)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += 6; b += ldb;
        }
        Store256(c, alpha, beta, c00, c01, f, row); Store256(c + ldc, alpha, beta, c10, c11, f, row + 1);
        Store256(c + 2 * ldc, alpha, beta, c20, c21, f, row + 2); Store256(c + 3 * ldc, alpha, beta, c30, c31, f, row + 3);
        Store256(c + 4 * ldc, alpha, beta, c40, c41, f, row + 4); Store256(c + 5 * ldc, alpha, beta, c50, c51, f, row + 5);
    }

    /// <summary>Scalar MR×NR tile: acc[r·NR + j] = Σ_p a[p·MR + r]·b[p·ldb + j], one element at a time (the reference expression).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void KernelScalar(int kc, float* a, float* b, int ldb, float* acc, int mr, int nr)
    {
        for (int i = 0; i < mr * nr; i++) acc[i] = 0;
        for (int p = 0; p < kc; p++, a += mr, b += ldb)
            for (int r = 0; r < mr; r++)
            {
                float x = a[r];
                for (int j = 0; j < nr; j++) acc[r * nr + j] = MathF.FusedMultiplyAdd(x, b[j], acc[r * nr + j]);
            }
    }

    /// <summary>
    /// C[r][j] = alpha·acc[r][j] + beta·C[r][j] over the valid mrEff×nrEff corner (beta 0 ignores C, even NaN).
    /// Full rows go through TensorPrimitives (vectorized); the scalar loop is the same expression.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Merge(float* acc, int ldt, float* c, int ldc, int mrEff, int nrEff, float alpha, float beta)
    {
        for (int r = 0; r < mrEff; r++)
        {
            var row = new Span<float>(c + (long)r * ldc, nrEff);
            var t = new ReadOnlySpan<float>(acc + r * ldt, nrEff);
            if (beta == 0) System.Numerics.Tensors.TensorPrimitives.Multiply(t, alpha, row);
            else if (beta == 1) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(t, alpha, row, row);
            else for (int j = 0; j < nrEff; j++) row[j] = alpha * t[j] + beta * row[j];
        }
    }
}
