using System.Diagnostics;
using System.Globalization;
using Predictor.Engine.Backends.Linux;
using Predictor.Engine.Backends.Profiles;

namespace Predictor.Engine.Tests.Backends.Profiles;

[Collection(Predictor.Engine.Tests.HostCpuCollection.Name)]
public sealed class SecureSandboxTests
{
    [Fact]
    public void Create_RealChild_RunsOnlyOnItsExclusiveCpuUnderItsMemoryLimitAndSaysNoEnclave()
    {
        Assert.True(LibC.IsRoot, $"This test must run as root (effective uid is {LibC.GetEffectiveUserId()}): it creates cgroups. CI runs as root.");
        var group = $"predictor-secure-{Guid.NewGuid():N}"[..30];
        var cpu = Environment.ProcessorCount - 1;
        Process? child = null;
        string cpusetPath;
        using (var sandbox = SecureSandbox.Create(group, "vault", [cpu], 64L << 20))
        {
            cpusetPath = sandbox.CpusetPath;
            try
            {
                Assert.Equal("1", File.ReadAllText(Path.Combine(sandbox.CpusetPath, "cpuset.cpu_exclusive")).Trim());
                Assert.Equal(cpu.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(sandbox.CpusetPath, "cpuset.cpus")).Trim());
                Assert.Equal((64L << 20).ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(sandbox.MemoryPath, "memory.limit_in_bytes")).Trim());

                child = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
                sandbox.Attach(child.Id);
                var allowed = File.ReadLines($"/proc/{child.Id}/status").First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
                Assert.EndsWith(cpu.ToString(CultureInfo.InvariantCulture), allowed.Trim(), StringComparison.Ordinal);
                Assert.Contains($":cpuset:/{group}/vault", File.ReadAllText($"/proc/{child.Id}/cgroup"), StringComparison.Ordinal);

                if (SecureSandbox.DetectEnclave().Enclave is null)
                {
                    Assert.StartsWith("No hardware enclave is available on this host", sandbox.Isolation, StringComparison.Ordinal);
                }

                Assert.Contains("marked exclusive", sandbox.Isolation, StringComparison.Ordinal);
            }
            finally
            {
                if (child is not null)
                {
                    child.Kill();
                    child.WaitForExit(5000);
                    child.Dispose();
                }
            }
        }

        Assert.False(Directory.Exists(cpusetPath));
        Assert.False(Directory.Exists(Path.GetDirectoryName(cpusetPath)));
    }
}
