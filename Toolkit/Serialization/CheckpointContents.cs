using System.Text.Json.Nodes;
using TransferKit.Toolkit.Graph;
using TransferKit.Toolkit.Optim;
using TransferKit.Toolkit.Tensors;

namespace TransferKit.Toolkit.Serialization;

/// <summary>
/// The engine's parts of a <see cref="CheckpointFile"/>: parameter values as tensors <c>parameters/NAME</c>, and an
/// optimizer's state as tensors <c>optimizer/SLOT/NAME</c> with its scalars (type, step count, per-group learning
/// rates and weight decay) under the state key <c>optimizer</c>.
/// </summary>
public static class CheckpointContents
{
    public const string ParameterPrefix = "parameters/";
    public const string OptimizerKey = "optimizer";

    /// <summary>Adds every parameter's current values (trainable or not: batch-norm running statistics included).</summary>
    public static void AddParameters(this CheckpointFile file, IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters) file.Add(ParameterPrefix + p.Name, p.Value.Clone());
    }

    /// <summary>The stored parameter values by name.</summary>
    public static Dictionary<string, Tensor> ReadParameters(this CheckpointFile file) =>
        file.Names.Where(n => n.StartsWith(ParameterPrefix, StringComparison.Ordinal))
            .ToDictionary(n => n[ParameterPrefix.Length..], file.Get, StringComparer.Ordinal);

    /// <summary>
    /// Copies the stored values into <paramref name="parameters"/>. The sets must match exactly: a parameter missing
    /// from the checkpoint, one the checkpoint has in addition, or a different shape is an error naming it.
    /// </summary>
    public static void RestoreParameters(this CheckpointFile file, IEnumerable<Parameter> parameters)
    {
        var stored = file.ReadParameters();
        var source = file.Source ?? "(in memory)";
        var list = parameters.ToList();
        foreach (var p in list)
        {
            if (!stored.TryGetValue(p.Name, out var t))
                throw new InvalidDataException($"Checkpoint '{source}' has no values for parameter '{p.Name}' (is it from another model or head?).");
            if (!t.Shape.SequenceEqual(p.Value.Shape))
                throw new InvalidDataException($"Checkpoint '{source}' holds parameter '{p.Name}' as {Shapes.Format(t.Shape)}; the model has {Shapes.Format(p.Value.Shape)}.");
        }
        var extra = stored.Keys.Except(list.Select(p => p.Name)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"Checkpoint '{source}' has parameters the model lacks: {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", …" : "")}.");
        foreach (var p in list) stored[p.Name].Span.CopyTo(p.Value.Span);
    }

    /// <summary>Adds an optimizer's state (buffers as tensors, scalars under the state key).</summary>
    public static void AddOptimizer(this CheckpointFile file, OptimizerState state, string key = OptimizerKey)
    {
        var slots = new JsonArray();
        foreach (var s in state.Slots)
        {
            var name = $"{key}/{s.Slot}/{s.Parameter}";
            file.Add(name, new Tensor([s.Values.Length], s.Values));
            slots.Add(new JsonObject { ["parameter"] = s.Parameter, ["slot"] = s.Slot, ["tensor"] = name });
        }
        static JsonArray Floats(float[] v) => new(v.Select(x => (JsonNode)JsonValue.Create(x)).ToArray());
        file.State[key] = new JsonObject
        {
            ["type"] = state.Type,
            ["step_count"] = state.StepCount,
            ["learning_rates"] = Floats(state.LearningRates),
            ["base_learning_rates"] = Floats(state.BaseLearningRates),
            ["weight_decays"] = Floats(state.WeightDecays),
            ["slots"] = slots,
        };
    }

    /// <summary>Whether the checkpoint holds an optimizer state under <paramref name="key"/>.</summary>
    public static bool HasOptimizer(this CheckpointFile file, string key = OptimizerKey) => file.State[key] is JsonObject;

    /// <summary>Reads the optimizer state written by <see cref="AddOptimizer"/>.</summary>
    public static OptimizerState ReadOptimizer(this CheckpointFile file, string key = OptimizerKey)
    {
        var source = file.Source ?? "(in memory)";
        var o = file.State[key] as JsonObject ?? throw new InvalidDataException($"Checkpoint '{source}' holds no optimizer state.");
        InvalidDataException Bad(string what) => new($"Checkpoint '{source}': the optimizer state is malformed ({what}).");
        T Field<T>(JsonNode? node, string name) => node?[name] is JsonValue v ? v.GetValue<T>() : throw Bad($"no '{name}'");
        try
        {
            float[] Floats(string name) => (o[name] as JsonArray ?? throw Bad($"no '{name}'"))
                .Select(v => v is JsonValue x ? x.GetValue<float>() : throw Bad($"a null in '{name}'")).ToArray();
            var slots = (o["slots"] as JsonArray ?? throw Bad("no 'slots'"))
                .Select(s => new OptimizerSlot(Field<string>(s, "parameter"), Field<string>(s, "slot"), file.Get(Field<string>(s, "tensor")).Span.ToArray()))
                .ToList();
            return new OptimizerState
            {
                Type = Field<string>(o, "type"),
                StepCount = Field<long>(o, "step_count"),
                LearningRates = Floats("learning_rates"),
                BaseLearningRates = Floats("base_learning_rates"),
                WeightDecays = Floats("weight_decays"),
                Slots = slots,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw Bad(e.Message);
        }
    }
}
