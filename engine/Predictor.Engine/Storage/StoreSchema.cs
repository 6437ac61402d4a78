using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Predictor.Engine.Storage;

/// <summary>Creates the schema of a new store and refuses files it cannot understand.</summary>
internal static class StoreSchema
{
    private const string CreateV1 = """
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        CREATE TABLE series (
            id      INTEGER PRIMARY KEY,
            name    TEXT NOT NULL UNIQUE,
            unit    TEXT NOT NULL,
            step_ms INTEGER NOT NULL
        );
        -- One row per compressed chunk; chunk_start/chunk_end are the first/last sample's Unix ms; codec = ChunkCodecKind.
        CREATE TABLE chunks (
            series_id   INTEGER NOT NULL REFERENCES series(id),
            chunk_start INTEGER NOT NULL,
            chunk_end   INTEGER NOT NULL,
            count       INTEGER NOT NULL,
            codec       INTEGER NOT NULL,
            data        BLOB NOT NULL,
            PRIMARY KEY (series_id, chunk_start)
        ) WITHOUT ROWID;
        CREATE TABLE module_metadata (
            module         TEXT PRIMARY KEY,
            profile        TEXT NOT NULL CHECK (profile IN ('Standard', 'Fast', 'Secure')),
            cpu_cores      REAL NOT NULL,
            memory_bytes   INTEGER NOT NULL,
            dependencies   TEXT NOT NULL,
            security_level TEXT NOT NULL
        );
        CREATE TABLE decision_log (
            id           INTEGER PRIMARY KEY,
            timestamp_ms INTEGER NOT NULL,
            kind         TEXT NOT NULL,
            subject      TEXT NOT NULL,
            action       TEXT NOT NULL,
            reason       TEXT NOT NULL,
            values_json  TEXT NOT NULL
        );
        CREATE INDEX decision_log_time ON decision_log (timestamp_ms);
        """;

    public static void Ensure(SqliteConnection connection, string path)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'";
        long tables;
        try
        {
            tables = (long)cmd.ExecuteScalar()!;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 26 or 11)
        {
            // SQLITE_NOTADB (26) or SQLITE_CORRUPT (11): the header looked like SQLite but the rest is not.
            throw new PredictorException($"'{path}' is not a readable SQLite database ({ex.Message}); it is corrupt or not a Predictor store.", ex);
        }

        if (tables == 0)
        {
            using var tx = connection.BeginTransaction();
            using var create = connection.CreateCommand();
            create.Transaction = tx;
            create.CommandText = CreateV1 + $"INSERT INTO schema_version(version) VALUES ({StoreVersion});";
            create.ExecuteNonQuery();
            tx.Commit();
            return;
        }

        cmd.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
        if ((long)cmd.ExecuteScalar()! == 0)
        {
            throw new PredictorException(
                $"'{path}' is a SQLite database but not a Predictor store (it has no schema_version table). Pass a store made by Predictor, or a new file name.");
        }

        cmd.CommandText = "SELECT MAX(version) FROM schema_version";
        var version = Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (version > StoreVersion)
        {
            throw new PredictorException(
                $"Store '{path}' has schema version {version}, newer than the {StoreVersion} this Predictor understands. " +
                "Open it with a newer Predictor; this one will not write to it.");
        }
    }

    private static int StoreVersion => TimeSeriesStore.SchemaVersion;
}
