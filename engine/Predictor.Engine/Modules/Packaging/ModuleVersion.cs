using System.Globalization;

namespace Predictor.Engine.Modules.Packaging;

/// <summary>
/// A module version: Semantic Versioning 2.0.0 <c>MAJOR.MINOR.PATCH[-PRERELEASE]</c> ordered by SemVer precedence
/// (section 11). Build metadata (<c>+...</c>) is refused because SemVer ignores it in precedence: two packages that
/// differ only there would be neither older nor newer, and anti-rollback needs a strict total order.
/// </summary>
public sealed class ModuleVersion : IComparable<ModuleVersion>, IEquatable<ModuleVersion>
{
    private readonly string[] _preRelease;

    private ModuleVersion(ulong major, ulong minor, ulong patch, string[] preRelease, string text)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        _preRelease = preRelease;
        Text = text;
    }

    /// <summary>Major version.</summary>
    public ulong Major { get; }

    /// <summary>Minor version.</summary>
    public ulong Minor { get; }

    /// <summary>Patch version.</summary>
    public ulong Patch { get; }

    /// <summary>The version as written.</summary>
    public string Text { get; }

    /// <summary>Parses a version or returns false with the reason.</summary>
    public static bool TryParse(string? text, out ModuleVersion? version, out string error)
    {
        version = null;
        error = string.Empty;
        if (string.IsNullOrEmpty(text))
        {
            error = "the version is empty; write MAJOR.MINOR.PATCH, e.g. 1.4.2";
            return false;
        }

        if (text.Contains('+', StringComparison.Ordinal))
        {
            error = $"version '{text}' has build metadata ('+...'), which SemVer ignores when ordering; anti-rollback needs a strict order, so drop it or bump a number";
            return false;
        }

        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var core = dash < 0 ? text : text[..dash];
        var parts = core.Split('.');
        if (parts.Length != 3)
        {
            error = $"version '{text}' is not MAJOR.MINOR.PATCH (e.g. 1.4.2 or 2.0.0-rc.1)";
            return false;
        }

        var numbers = new ulong[3];
        for (var i = 0; i < 3; i++)
        {
            if (!IsNumericIdentifier(parts[i]) || !ulong.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                error = $"version '{text}': '{parts[i]}' is not a number without leading zeros";
                return false;
            }
        }

        string[] pre = [];
        if (dash >= 0)
        {
            pre = text[(dash + 1)..].Split('.');
            foreach (var id in pre)
            {
                if (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    error = $"version '{text}': pre-release identifier '{id}' must be non-empty [0-9A-Za-z-]";
                    return false;
                }

                if (id.All(char.IsAsciiDigit) && !IsNumericIdentifier(id))
                {
                    error = $"version '{text}': numeric pre-release identifier '{id}' has a leading zero";
                    return false;
                }
            }
        }

        version = new ModuleVersion(numbers[0], numbers[1], numbers[2], pre, text);
        return true;
    }

    /// <summary>Parses a version or throws a <see cref="PredictorException"/> naming the problem.</summary>
    public static ModuleVersion Parse(string text)
    {
        if (!TryParse(text, out var version, out var error))
        {
            throw new PredictorException(error);
        }

        return version!;
    }

    /// <inheritdoc/>
    public int CompareTo(ModuleVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = Major.CompareTo(other.Major);
        if (c == 0)
        {
            c = Minor.CompareTo(other.Minor);
        }

        if (c == 0)
        {
            c = Patch.CompareTo(other.Patch);
        }

        if (c != 0)
        {
            return c;
        }

        // A version with a pre-release has lower precedence than the same version without one.
        if (_preRelease.Length == 0 || other._preRelease.Length == 0)
        {
            return (_preRelease.Length == 0, other._preRelease.Length == 0) switch
            {
                (true, true) => 0,
                (true, false) => 1,
                _ => -1,
            };
        }

        for (var i = 0; i < Math.Min(_preRelease.Length, other._preRelease.Length); i++)
        {
            c = ComparePreRelease(_preRelease[i], other._preRelease[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return _preRelease.Length.CompareTo(other._preRelease.Length);
    }

    /// <inheritdoc/>
    public bool Equals(ModuleVersion? other) => other is not null && CompareTo(other) == 0;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ModuleVersion v && Equals(v);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Major, Minor, Patch, string.Join('.', _preRelease));

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>True when <paramref name="left"/> is newer.</summary>
    public static bool operator >(ModuleVersion left, ModuleVersion right) => left.CompareTo(right) > 0;

    /// <summary>True when <paramref name="left"/> is older.</summary>
    public static bool operator <(ModuleVersion left, ModuleVersion right) => left.CompareTo(right) < 0;

    /// <summary>True when <paramref name="left"/> is newer or equal.</summary>
    public static bool operator >=(ModuleVersion left, ModuleVersion right) => left.CompareTo(right) >= 0;

    /// <summary>True when <paramref name="left"/> is older or equal.</summary>
    public static bool operator <=(ModuleVersion left, ModuleVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Equality by precedence.</summary>
    public static bool operator ==(ModuleVersion? left, ModuleVersion? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Inequality by precedence.</summary>
    public static bool operator !=(ModuleVersion? left, ModuleVersion? right) => !(left == right);

    private static bool IsNumericIdentifier(string s) =>
        s.Length > 0 && s.All(char.IsAsciiDigit) && (s.Length == 1 || s[0] != '0');

    private static int ComparePreRelease(string a, string b)
    {
        var aNum = a.All(char.IsAsciiDigit);
        var bNum = b.All(char.IsAsciiDigit);
        if (aNum && bNum)
        {
            // Compare numerically without overflow: longer (no leading zeros) is larger.
            return a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
        }

        if (aNum != bNum)
        {
            return aNum ? -1 : 1; // numeric identifiers have lower precedence than alphanumeric ones
        }

        return Math.Sign(string.CompareOrdinal(a, b));
    }
}
