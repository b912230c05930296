using System.Text.Json;

namespace ClearOci.Vmm;

/// <summary>
/// Stateless configuration. Every setting has a built-in default; an optional JSON file
/// (<see cref="DefaultPath"/>, or the file <c>CLEAROCI_CONFIG</c> names) overrides defaults, and
/// an environment variable overrides the file. Nothing else is read and nothing is written.
/// The file is one JSON object with any of these keys:
/// <code>{ "memoryMiB": 256, "vcpus": 2, "guestRoot": "image", "tcgCacheMiB": 32, "accel": "tcg", "assets": "/opt/clearoci/share/clearoci/current" }</code>
/// An unknown key or a value of the wrong type is an error that names the file and the key.
/// </summary>
public static class HostConfig
{
    public const string DefaultPath = "/etc/clearoci/config.json";
    public const string PathVariable = "CLEAROCI_CONFIG";

    /// <summary>Each file key, the environment variable that overrides it, and whether it is a number.</summary>
    public static readonly IReadOnlyList<(string Key, string Variable, bool Number)> Keys =
    [
        ("memoryMiB", "CLEAROCI_MEMORY_MIB", true),
        ("vcpus", "CLEAROCI_VCPUS", true),
        ("guestRoot", "CLEAROCI_GUEST_ROOT", false),
        ("tcgCacheMiB", "CLEAROCI_TCG_CACHE_MIB", true),
        ("accel", HostInfo.AccelVariable, false),
        ("assets", GuestAssets.EnvironmentVariable, false),
    ];

    private static readonly Lazy<(Func<string, string?> Get, string? Source)> Current = new(() =>
    {
        var (file, source) = Load(Environment.GetEnvironmentVariable(PathVariable), File.Exists, File.ReadAllText);
        return (Layer(Environment.GetEnvironmentVariable, file), source);
    });

    /// <summary>The value of a setting, by its environment variable's name: the environment first, then the file.</summary>
    public static string? Get(string variable) => Current.Value.Get(variable);

    /// <summary>The file the settings came from, or null when there is none.</summary>
    public static string? Source => Current.Value.Source;

    /// <summary>Reads the file: the explicit path must exist; the default path may be absent.</summary>
    public static (IReadOnlyDictionary<string, string> Values, string? Source) Load(string? explicitPath, Func<string, bool> exists, Func<string, string> read)
    {
        string path = string.IsNullOrEmpty(explicitPath) ? DefaultPath : explicitPath;
        if (!exists(path))
        {
            if (!string.IsNullOrEmpty(explicitPath)) throw ClearOciException.Invalid($"{PathVariable}={explicitPath}: no such file");
            return (new Dictionary<string, string>(), null);
        }
        string text;
        try { text = read(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ClearOciException.Invalid($"cannot read the configuration file {path}: {e.Message}");
        }
        return (Parse(path, text), path);
    }

    /// <summary>The file's values keyed by environment variable name.</summary>
    public static IReadOnlyDictionary<string, string> Parse(string path, string text)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw ClearOciException.Invalid($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw ClearOciException.Invalid($"{path}: expected a JSON object");
            var values = new Dictionary<string, string>();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                int i = Keys.Count - 1;
                while (i >= 0 && Keys[i].Key != property.Name) i--;
                if (i < 0)
                    throw ClearOciException.Invalid($"{path}: unknown key \"{property.Name}\" (known: {string.Join(", ", Keys.Select(k => k.Key))})");
                var (key, variable, number) = Keys[i];
                values[variable] = (number, property.Value.ValueKind) switch
                {
                    (true, JsonValueKind.Number) when property.Value.TryGetInt32(out int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    (false, JsonValueKind.String) => property.Value.GetString()!,
                    _ => throw ClearOciException.Invalid($"{path}: \"{key}\" must be {(number ? "a whole number" : "a string")}"),
                };
            }
            return values;
        }
    }

    /// <summary>The environment over the file.</summary>
    public static Func<string, string?> Layer(Func<string, string?> environment, IReadOnlyDictionary<string, string> file) =>
        variable => environment(variable) is { Length: > 0 } v ? v : file.GetValueOrDefault(variable);
}
