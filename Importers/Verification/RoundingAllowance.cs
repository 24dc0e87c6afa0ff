using TransferKit.Toolkit.Kernels.Reference;
using TransferKit.Toolkit.Ops;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Importers.Verification;

/// <summary>
/// The round-off a per-node comparison allows a reduction node (Conv, ConvTranspose, Gemm, MatMul) on top of
/// <see cref="Tolerance"/>: per output element <c>c · u · √K · S</c>, where S = Σ_k |w_k|·|x_k| (+ |b|) is the element's
/// sum of absolute terms, K the number of terms and u = 2⁻²⁴ the unit round-off of float32.
/// <para>
/// Why: a float32 sum of K terms in any order is off by at most γ_K·S, γ_K = K·u/(1 − K·u) (Higham, Accuracy and
/// Stability of Numerical Algorithms, 2nd ed., §3.1). That worst case needs every rounding to go the same way; with
/// rounding errors modelled as independent and of mean zero, Higham &amp; Mary (SIAM J. Sci. Comput. 41(5), 2019,
/// Theorem 3.1) bound it by γ̃_K(λ)·S ≈ λ·√K·u·S, with probability at least 1 − 2K·exp(−λ²(1 − u)²/2). Near an output
/// of zero, where S is large beside |y|, that is far above 1e-4 + 1e-3·|y|: PP-OCRv4's neck sums 864 products of
/// activations reaching ~900, and ONNX Runtime itself is off by 1.5e-3 there against a double-precision sum.
/// </para>
/// </summary>
public static class RoundingAllowance
{
    /// <summary>Unit round-off of float32 (round to nearest): 2⁻²⁴.</summary>
    public const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// Unit round-off of float16: 2⁻¹¹. ONNX Runtime runs a float16 model in float16 (its per-node values are float16
    /// too), so the reference side of such a comparison rounds at this precision.
    /// </summary>
    public const double HalfUnitRoundoff = 1.0 / (1 << 11);

    /// <summary>
    /// λ of the probabilistic bound: its failure probability 2K·exp(−λ²/2) with λ = 8 and K ≤ 10⁴ is 2.5·10⁻¹⁰ per
    /// element, so a run comparing 10⁶ elements of reduction nodes the rule had to widen for stays below 10⁻³ by
    /// chance alone.
    /// </summary>
    public const double Lambda = 8;

    /// <summary>
    /// c = 2λ: the comparison is between two float32 results (ours and ONNX Runtime's), each within λ·√K·u·S of the
    /// exact sum, so their difference is within 2λ·√K·u·S.
    /// </summary>
    public const double Factor = 2 * Lambda;

    /// <summary>Whether the op is a reduction the allowance applies to.</summary>
    public static bool Applies(Op op) => op is ConvOp or ConvTransposeOp or GemmOp or MatMulOp;

    /// <summary>Terms K summed into each output element (the most any element has; padding only removes terms), bias included.</summary>
    public static long Terms(Op op, IReadOnlyList<int[]> inputs)
    {
        switch (op)
        {
            case ConvOp conv:
            {
                var g = conv.Geometry(inputs[0], inputs[1]);
                return (long)(g.InChannels / g.Groups) * g.KernelH * g.KernelW + (inputs.Count > 2 ? 1 : 0);
            }
            case ConvTransposeOp convT:
            {
                // The geometry of the adjoint convolution: its OutChannels are this op's input channels. Along an
                // axis with stride s (and dilation 1) an output element receives ⌈k/s⌉ taps; with dilation, at most k.
                var g = convT.Geometry(inputs[0], inputs[1]);
                long kh = g.DilationH == 1 ? (g.KernelH + g.StrideH - 1) / g.StrideH : g.KernelH;
                long kw = g.DilationW == 1 ? (g.KernelW + g.StrideW - 1) / g.StrideW : g.KernelW;
                return (long)(g.OutChannels / g.Groups) * kh * kw + (inputs.Count > 2 ? 1 : 0);
            }
            case GemmOp gemm:
                return (gemm.TransA ? inputs[0][0] : inputs[0][1]) + (inputs.Count > 2 && gemm.Beta != 0 ? 1 : 0);
            case MatMulOp:
                return inputs[0][^1];
            default:
                throw new ArgumentException($"{op.Type} is not a reduction the rounding allowance covers.", nameof(op));
        }
    }

    /// <summary>
    /// S per element of output 0: the op applied to the absolute values of its inputs. Conv and ConvTranspose run the
    /// plain reference loops, accumulated in double; Gemm and MatMul run the op itself on |A|, |B| (and |C|, with |α|
    /// and |β|): a float32 sum of non-negative terms is off by at most γ_K relative, far inside the allowance's own
    /// uncertainty.
    /// </summary>
    public static Tensor AbsoluteSum(Op op, IReadOnlyList<Tensor> inputs, int[] outputShape)
    {
        var abs = inputs.Select(t => { var a = new Tensor(t.ShapeArray); System.Numerics.Tensors.TensorPrimitives.Abs(t.Span, a.Span); return a; }).ToArray();
        var s = new Tensor(outputShape);
        switch (op)
        {
            case ConvOp conv:
            {
                var g = conv.Geometry(abs[0].ShapeArray, abs[1].ShapeArray);
                ReferenceConv2D.Forward(g, abs[0].Span, abs[1].Span, abs.Length > 2 ? abs[2].Span : default, s.Span);
                break;
            }
            case ConvTransposeOp convT:
            {
                var g = convT.Geometry(abs[0].ShapeArray, abs[1].ShapeArray);
                var y = new float[s.Length];
                ReferenceConvTranspose2D.Forward(g, abs[0].Span.ToArray(), abs[1].Span.ToArray(), abs.Length > 2 ? abs[2].Span.ToArray() : null, y);
                y.CopyTo(s.Span);
                break;
            }
            case GemmOp gemm:
            {
                var absOp = new GemmOp(gemm.TransA, gemm.TransB, Math.Abs(gemm.Alpha), Math.Abs(gemm.Beta));
                absOp.Forward(new OpContext { Inputs = abs, Outputs = [s] });
                break;
            }
            case MatMulOp matMul:
                matMul.Forward(new OpContext { Inputs = abs, Outputs = [s], Workspace = new float[matMul.WorkspaceLength(abs.Select(a => a.ShapeArray).ToArray())] });
                break;
            default:
                throw new ArgumentException($"{op.Type} is not a reduction the rounding allowance covers.", nameof(op));
        }
        return s;
    }

    /// <summary>
    /// The allowance c·u·√K·S per element of output 0, u = <paramref name="unitRoundoff"/> (<see cref="UnitRoundoff"/>;
    /// <see cref="HalfUnitRoundoff"/> against a float16 reference, the coarser of the two sides' precisions).
    /// </summary>
    public static float[] Compute(Op op, IReadOnlyList<Tensor> inputs, int[] outputShape, double unitRoundoff = UnitRoundoff)
    {
        long k = Terms(op, inputs.Select(t => t.ShapeArray).ToArray());
        var s = AbsoluteSum(op, inputs, outputShape).Data;
        double scale = Factor * unitRoundoff * Math.Sqrt(k);
        for (int i = 0; i < s.Length; i++) s[i] = (float)(scale * s[i]);
        return s;
    }
}
