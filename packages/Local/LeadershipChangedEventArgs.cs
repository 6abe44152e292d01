namespace Ataraxia.Local;

/// <summary>Reports that a process became the machine's leader or stopped being it.</summary>
/// <param name="isLeader">Whether the process is the leader now.</param>
public sealed class LeadershipChangedEventArgs(bool isLeader) : EventArgs
{
    /// <summary>Gets a value indicating whether the process is the leader now.</summary>
    public bool IsLeader { get; } = isLeader;
}
