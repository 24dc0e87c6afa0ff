namespace TransferKit.FineTune.Checkpoints;

/// <summary>
/// Where a run stands after an epoch: the phase it was in, how far it got, where it goes on, and the counters the
/// trainer's randomness depends on. Epoch shuffles, augmentation and cached views are keyed by (seed, epoch within the
/// phase), so the phase epoch is their counter; dropout masks are keyed by the trainer's step counter.
/// </summary>
/// <param name="Phase">Index of the phase the last epoch ran in (into <see cref="RunCheckpoint.Phases"/>).</param>
/// <param name="PhaseEpochsDone">Epochs finished in that phase.</param>
/// <param name="EpochsDone">Epochs finished in the whole run (the last epoch's 1-based number).</param>
/// <param name="NextPhase">The phase to continue in (equal to the phase count when training is over).</param>
/// <param name="NextPhaseEpoch">The epoch within <paramref name="NextPhase"/> to continue with (0 at a phase start).</param>
/// <param name="DropoutStep">The trainer's step counter in the phase (dropout masks hash it).</param>
public sealed record RunPosition(int Phase, int PhaseEpochsDone, int EpochsDone, int NextPhase, int NextPhaseEpoch, long DropoutStep);
