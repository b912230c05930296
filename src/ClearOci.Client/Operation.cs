namespace ClearOci.Client;

/// <summary>
/// Everything that can move (or needs) a container's state: the verbs a user or engine asks for,
/// and the changes the supervisor makes on its own (<see cref="Created"/>, <see cref="Exited"/>).
/// <see cref="Transitions"/> decides each one.
/// </summary>
public enum Operation
{
    Start,
    Kill,
    Pause,
    Resume,
    Update,
    Exec,
    Stats,
    Ps,
    Events,
    /// <summary>`delete` without --force (with --force, every state may be deleted).</summary>
    Delete,
    /// <summary>Internal: the VM booted and the container was created in it.</summary>
    Created,
    /// <summary>Internal: the container's process ended (or its VM did).</summary>
    Exited,
}
