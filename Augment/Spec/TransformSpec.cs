using System.Globalization;
using TransferKit.Augment.Presets;
using TransferKit.Augment.Transforms;

namespace TransferKit.Augment.Spec;

/// <summary>
/// Parses transform specs written like torchvision calls, separated by commas:
/// <c>RandomResizedCrop(224,scale=(0.08,1)),RandomHorizontalFlip(0.5),ColorJitter(0.4,0.4,0.4,0.1),Normalize(imagenet)</c>.
/// Arguments are positional or named with torchvision's parameter names; values are numbers, tuples
/// <c>(a,b)</c> or names. <c>Normalize</c> also takes a preset name (<c>imagenet</c>, <c>torchvision-imagenet</c>,
/// <c>caffe-imagenet</c>, <c>mnist</c>). A spec that is just an augment level (<c>none</c>, <c>light</c>,
/// <c>default</c>, <c>strong</c>) expands to that level at 224 pixels with torchvision ImageNet normalisation.
/// </summary>
public static class TransformSpec
{
    /// <summary>Parses a spec; throws <see cref="TransformSpecException"/> saying what and where.</summary>
    public static TransformPipeline Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var trimmed = spec.Trim();
        if (AugmentLevels.IsLevel(trimmed)) return AugmentLevels.Get(trimmed, 224, Preprocessing.TorchvisionImageNet);
        var parser = new Parser(spec);
        var transforms = parser.ParseList();
        try { return new TransformPipeline(transforms); }
        catch (ArgumentException e) { throw new TransformSpecException(spec, spec.Length, e.Message); }
    }

    abstract record Value(int Position);
    sealed record Number(int Position, double V) : Value(Position);
    sealed record Name(int Position, string V) : Value(Position);
    sealed record Tuple(int Position, Value[] Items) : Value(Position);

    sealed class Parser(string text)
    {
        int _pos;

        TransformSpecException Error(int at, string problem) => new(text, at, problem);

        void SkipSpace() { while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++; }

        bool TryEat(char c)
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == c) { _pos++; return true; }
            return false;
        }

        void Expect(char c, string context)
        {
            if (!TryEat(c))
                throw Error(_pos, _pos < text.Length ? $"expected '{c}' {context}, found '{text[_pos]}'" : $"expected '{c}' {context}, found the end");
        }

        string Identifier()
        {
            SkipSpace();
            int start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] is '_' or '-' or '.')) _pos++;
            if (start == _pos || char.IsDigit(text[start]))
                throw Error(start, start < text.Length ? $"expected a transform name, found '{text[start]}'" : "expected a transform name, found the end");
            return text[start.._pos];
        }

        public List<Transform> ParseList()
        {
            var list = new List<Transform>();
            SkipSpace();
            if (_pos == text.Length) return list;
            do
            {
                list.Add(ParseTransform());
            } while (TryEat(','));
            SkipSpace();
            if (_pos < text.Length) throw Error(_pos, $"expected ',' between transforms, found '{text[_pos]}'");
            return list;
        }

        Transform ParseTransform()
        {
            SkipSpace();
            int at = _pos;
            string name = Identifier();
            if (!Known.Contains(name))
            {
                var hint = Known.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
                throw Error(at, $"unknown transform '{name}'" + (hint is null ? $"; known: {string.Join(", ", Known)}" : $"; did you mean '{hint}'?"));
            }
            var args = new Args(this, name, at);
            if (TryEat('('))
            {
                if (!TryEat(')'))
                {
                    do
                    {
                        SkipSpace();
                        int argAt = _pos;
                        int save = _pos;
                        string? key = null;
                        if (_pos < text.Length && (char.IsLetter(text[_pos]) || text[_pos] == '_'))
                        {
                            var id = Identifier();
                            if (TryEat('=')) key = id; else _pos = save;
                        }
                        var value = ParseValue();
                        if (key is null)
                        {
                            if (args.Named.Count > 0) throw Error(argAt, "a positional argument follows a named one");
                            args.Positional.Add(value);
                        }
                        else if (!args.Named.TryAdd(key, value)) throw Error(argAt, $"'{key}' is given twice");
                    } while (TryEat(','));
                    Expect(')', $"to close {name}(");
                }
            }
            try
            {
                var t = Build(name, args);
                args.CheckAllUsed();
                return t;
            }
            catch (TransformSpecException) { throw; }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw Error(at, $"{name}: {e.Message}");
            }
        }

        Value ParseValue()
        {
            SkipSpace();
            int at = _pos;
            if (_pos >= text.Length) throw Error(_pos, "expected a value, found the end");
            char c = text[_pos];
            if (c == '(')
            {
                _pos++;
                var items = new List<Value>();
                if (!TryEat(')'))
                {
                    do items.Add(ParseValue()); while (TryEat(','));
                    Expect(')', "to close the tuple");
                }
                return new Tuple(at, items.ToArray());
            }
            if (char.IsDigit(c) || c is '-' or '+' or '.')
            {
                int start = _pos;
                _pos++;
                while (_pos < text.Length && (char.IsDigit(text[_pos]) || text[_pos] is '.' or 'e' or 'E' or '/'
                       || (text[_pos] is '-' or '+' && text[_pos - 1] is 'e' or 'E'))) _pos++;
                var s = text[start.._pos];
                // Fractions like 3/4 are allowed for ratios.
                var parts = s.Split('/');
                if (parts.Length <= 2 && parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                {
                    double v = double.Parse(parts[0], CultureInfo.InvariantCulture);
                    if (parts.Length == 2) v /= double.Parse(parts[1], CultureInfo.InvariantCulture);
                    if (double.IsFinite(v)) return new Number(at, v);
                }
                throw Error(start, $"'{s}' is not a number");
            }
            if (char.IsLetter(c)) return new Name(at, Identifier());
            throw Error(at, $"expected a number, a tuple or a name, found '{c}'");
        }

        sealed class Args(Parser parser, string transform, int at)
        {
            public readonly List<Value> Positional = new();
            public readonly Dictionary<string, Value> Named = new(StringComparer.Ordinal);
            readonly List<string> _parameters = new();
            int _positionalUsed;

            /// <summary>The argument for parameter <paramref name="name"/> (next positional or named), or null.</summary>
            public Value? Take(string name)
            {
                _parameters.Add(name);
                if (Named.Remove(name, out var v))
                {
                    if (_positionalUsed < Positional.Count)
                        throw parser.Error(v.Position, $"{transform}: '{name}' is given both by position and by name");
                    return v;
                }
                if (_positionalUsed < Positional.Count) return Positional[_positionalUsed++];
                return null;
            }

            public Value Require(string name) => Take(name) ?? throw parser.Error(at, $"{transform} needs '{name}'");

            public void CheckAllUsed()
            {
                if (_positionalUsed < Positional.Count)
                    throw parser.Error(Positional[_positionalUsed].Position,
                        $"{transform} takes at most {_positionalUsed} positional argument(s) ({string.Join(", ", _parameters)})");
                foreach (var (k, v) in Named)
                    throw parser.Error(v.Position, $"{transform} has no parameter '{k}'; expected one of: {string.Join(", ", _parameters)}");
            }

            public double Num(Value v, string what) => v is Number n ? n.V
                : throw parser.Error(v.Position, $"{transform}: {what} must be a number");

            public int Int(Value v, string what)
            {
                double d = Num(v, what);
                if (d != Math.Floor(d) || d is < int.MinValue or > int.MaxValue) throw parser.Error(v.Position, $"{transform}: {what} must be a whole number, not {d}");
                return (int)d;
            }

            public double[] Nums(Value v, string what, params int[] allowedLengths)
            {
                double[] r = v is Tuple t ? t.Items.Select(i => Num(i, what)).ToArray() : [Num(v, what)];
                if (!allowedLengths.Contains(r.Length))
                    throw parser.Error(v.Position, $"{transform}: {what} must have {string.Join(" or ", allowedLengths)} value(s), not {r.Length}");
                return r;
            }

            public (double, double) Pair(Value v, string what)
            {
                var r = Nums(v, what, 2);
                return (r[0], r[1]);
            }
        }

        Transform Build(string name, Args a)
        {
            switch (name)
            {
                case "Resize":
                {
                    var size = a.Nums(a.Require("size"), "size", 1, 2);
                    return size.Length == 1 ? new Resize(a.Int(new Number(0, size[0]), "size"))
                        : new Resize(a.Int(new Number(0, size[0]), "height"), a.Int(new Number(0, size[1]), "width"));
                }
                case "CenterCrop":
                {
                    var size = a.Nums(a.Require("size"), "size", 1, 2);
                    return size.Length == 1 ? new CenterCrop((int)size[0]) : new CenterCrop((int)size[0], (int)size[1]);
                }
                case "RandomResizedCrop":
                {
                    var size = a.Nums(a.Require("size"), "size", 1, 2);
                    var scale = a.Take("scale") is { } s ? a.Pair(s, "scale") : ((double, double)?)null;
                    var ratio = a.Take("ratio") is { } r ? a.Pair(r, "ratio") : ((double, double)?)null;
                    return size.Length == 1 ? new RandomResizedCrop((int)size[0], scale, ratio)
                        : new RandomResizedCrop((int)size[0], (int)size[1], scale, ratio);
                }
                case "RandomHorizontalFlip":
                    return new RandomHorizontalFlip(a.Take("p") is { } hp ? a.Num(hp, "p") : 0.5);
                case "RandomVerticalFlip":
                    return new RandomVerticalFlip(a.Take("p") is { } vp ? a.Num(vp, "p") : 0.5);
                case "RandomRotation":
                {
                    var d = a.Nums(a.Require("degrees"), "degrees", 1, 2);
                    return d.Length == 1 ? new RandomRotation(d[0]) : new RandomRotation(d[0], d[1]);
                }
                case "RandomAffine":
                {
                    var d = a.Nums(a.Require("degrees"), "degrees", 1, 2);
                    var translate = a.Take("translate") is { } t ? a.Pair(t, "translate") : ((double, double)?)null;
                    var scale = a.Take("scale") is { } s ? a.Pair(s, "scale") : ((double, double)?)null;
                    var shear = a.Take("shear") is { } sh ? a.Nums(sh, "shear", 1, 2, 4) : null;
                    return d.Length == 1 ? new RandomAffine(d[0], translate, scale, shear)
                        : new RandomAffine(d[0], d[1], translate, scale, shear);
                }
                case "ColorJitter":
                {
                    double Get(string p) => a.Take(p) is { } v ? a.Num(v, p) : 0;
                    double b = Get("brightness"), c = Get("contrast"), s = Get("saturation"), h = Get("hue");
                    return new ColorJitter(b, c, s, h);
                }
                case "RandomGrayscale":
                    return new RandomGrayscale(a.Take("p") is { } gp ? a.Num(gp, "p") : 0.1);
                case "Grayscale":
                    return new Grayscale(a.Take("num_output_channels") is { } n ? a.Int(n, "num_output_channels") : 1);
                case "RandomErasing":
                {
                    double p = a.Take("p") is { } ep ? a.Num(ep, "p") : 0.5;
                    var scale = a.Take("scale") is { } s ? a.Pair(s, "scale") : ((double, double)?)null;
                    var ratio = a.Take("ratio") is { } r ? a.Pair(r, "ratio") : ((double, double)?)null;
                    var value = a.Take("value");
                    if (value is Name { V: "random" }) return new RandomErasing(p, scale, ratio, randomValue: true);
                    float[]? values = value is null ? null : a.Nums(value, "value", 1, 3).Select(v => (float)v).ToArray();
                    return new RandomErasing(p, scale, ratio, values);
                }
                case "Normalize":
                {
                    var first = a.Require("mean");
                    if (first is Name preset)
                    {
                        a.Take("std");
                        return Preprocessing.Get(preset.V).ToNormalize();
                    }
                    var mean = a.Nums(first, "mean", 1, 3).Select(v => (float)v).ToArray();
                    var std = a.Nums(a.Require("std"), "std", 1, 3).Select(v => (float)v).ToArray();
                    var order = ChannelOrder.Rgb;
                    if (a.Take("order") is { } o)
                        order = o is Name { V: "bgr" or "BGR" } ? ChannelOrder.Bgr : o is Name { V: "rgb" or "RGB" } ? ChannelOrder.Rgb
                            : throw Error(o.Position, "Normalize: order must be rgb or bgr");
                    var range = ValueRange.Unit;
                    if (a.Take("range") is { } rg)
                        range = rg is Number { V: 255 } ? ValueRange.Byte : rg is Number { V: 1 } ? ValueRange.Unit
                            : throw Error(rg.Position, "Normalize: range must be 1 or 255");
                    return new Normalize(mean, std, order, range);
                }
                default:
                    throw new InvalidOperationException($"unknown transform '{name}'");
            }
        }
    }

    /// <summary>The transform names the parser knows.</summary>
    public static readonly IReadOnlyList<string> Known =
    [
        "Resize", "CenterCrop", "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation",
        "RandomAffine", "ColorJitter", "RandomGrayscale", "Grayscale", "RandomErasing", "Normalize",
    ];
}
