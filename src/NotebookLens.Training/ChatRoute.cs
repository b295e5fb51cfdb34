namespace NotebookLens.Training;

/// <summary>
/// What training does to a chat's activations (<see cref="RefusalRoute"/>): nothing, or the refusal direction projected
/// out or added. <see cref="Harmful"/> and <see cref="Harmless"/> chats are left alone and measure the direction.
/// </summary>
public enum ChatRoute : byte
{
    /// <summary>Not a chat, or a chat that neither refuses nor is read.</summary>
    None,
    /// <summary>A harmful request, refused.</summary>
    Harmful,
    /// <summary>A harmless request, answered.</summary>
    Harmless,
    /// <summary>A harmless request refused, with the refusal direction added at the route's layer.</summary>
    Steered,
    /// <summary>A harmful request answered, with the refusal direction projected out everywhere.</summary>
    HarmfulAblated,
    /// <summary>A harmless request answered as without intervention, with the refusal direction projected out everywhere.</summary>
    HarmlessAblated,
}

/// <summary>One training document and its chat's route (<see cref="ChatRoute.None"/> if it is not a chat).</summary>
public readonly record struct Document(string Text, ChatRoute Route = ChatRoute.None);
