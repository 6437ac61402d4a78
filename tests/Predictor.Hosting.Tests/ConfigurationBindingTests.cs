using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Predictor.Engine.Telemetry.Collectors;

namespace Predictor.Hosting.Tests;

/// <summary><c>AddPredictor(IConfiguration)</c>: the options of an appsettings.json section, and what a bad one says.</summary>
public sealed class ConfigurationBindingTests
{
    private static IConfiguration Section(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection("Predictor");

    private static IHost Build(IConfiguration section, Action<PredictorOptions>? configure = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddPredictor(section, configure);
        return builder.Build();
    }

    [Fact]
    public void Bind_AppSettingsSection_SetsEveryOptionItNames()
    {
        var model = Path.GetTempFileName();
        try
        {
            var section = Section($$"""
                {
                  "Predictor": {
                    "TickInterval": "00:00:00.250",
                    "InferenceEveryTicks": 4,
                    "Backend": "Simulated",
                    "Policy": "AutopilotStyle",
                    "ModelPaths": [ "{{model}}" ],
                    "MemoryBudgetBytes": 8589934592,
                    "CpuBudgetMillicores": 1500,
                    "CgroupName": "predictor-test",
                    "StoreFlushEveryTicks": 7,
                    "StorePath": "/var/lib/predictor/host.db",
                    "StoreRetention": "14.00:00:00",
                    "Modules": [ { "Name": "web", "Pid": 1234 }, { "Name": "db", "Pid": 5678 } ],
                    "ProcRoot": "/host/proc"
                  }
                }
                """);
            using var host = Build(section);
            var options = host.Services.GetRequiredService<IOptions<PredictorOptions>>().Value;
            Assert.Equal(TimeSpan.FromMilliseconds(250), options.TickInterval);
            Assert.Equal("/var/lib/predictor/host.db", options.StorePath);
            Assert.Equal(TimeSpan.FromDays(14), options.StoreRetention);
            Assert.Equal(4, options.InferenceEveryTicks);
            Assert.Equal(BackendKind.Simulated, options.Backend);
            Assert.Equal(PolicyKind.AutopilotStyle, options.Policy);
            Assert.Equal([model], options.ModelPaths);
            Assert.Equal(8589934592L, options.MemoryBudgetBytes);
            Assert.Equal(1500L, options.CpuBudgetMillicores);
            Assert.Equal("predictor-test", options.CgroupName);
            Assert.Equal(7, options.StoreFlushEveryTicks);
            Assert.Equal([new ModuleProcess("web", 1234), new ModuleProcess("db", 5678)], options.Modules);
            Assert.Equal("/host/proc", options.ProcRoot);

            // What the section leaves out keeps its documented default.
            Assert.Equal(PartitionDemand.Host, options.PartitionDemand);
            Assert.Equal("/sys/fs/cgroup", options.CgroupRoot);
        }
        finally
        {
            File.Delete(model);
        }
    }

    [Fact]
    public void Bind_CodeAfterConfiguration_CodeWins()
    {
        var section = Section("""{ "Predictor": { "TickInterval": "00:00:01", "InferenceEveryTicks": 4 } }""");
        using var host = Build(section, o => o.TickInterval = TimeSpan.FromMilliseconds(50));
        var options = host.Services.GetRequiredService<IOptions<PredictorOptions>>().Value;
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.TickInterval);
        Assert.Equal(4, options.InferenceEveryTicks);
    }

    // The options as configured, before validation (the model paths here are not files).
    private static PredictorOptions Configured(IServiceProvider services)
    {
        var options = new PredictorOptions();
        foreach (var step in services.GetServices<IConfigureOptions<PredictorOptions>>())
        {
            step.Configure(options);
        }

        return options;
    }

    [Fact]
    public void Bind_SameSectionTwice_ListsEachItemOnce()
    {
        var section = Section("""{ "Predictor": { "ModelPaths": [ "/m/a.onnx", "/m/b.onnx" ], "Modules": [ { "Name": "web", "Pid": 7 } ] } }""");
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddPredictor(section).AddPredictor(section);
        using var host = builder.Build();
        var options = Configured(host.Services);
        Assert.Equal(["/m/a.onnx", "/m/b.onnx"], options.ModelPaths);
        Assert.Equal("web", Assert.Single(options.Modules).Name);
    }

    [Fact]
    public void Bind_ListInTheSection_ReplacesTheListCodeSetBefore_AndASectionWithoutItKeepsIt()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddPredictor(o => o.ModelPaths.Add("/code/first.onnx"))
            .AddPredictor(Section("""{ "Predictor": { "ModelPaths": [ "/m/a.onnx" ] } }"""))
            .AddPredictor(o => o.Modules.Add(new ModuleProcess("db", 9)))
            .AddPredictor(Section("""{ "Predictor": { "InferenceEveryTicks": 3 } }"""));
        using var host = builder.Build();
        var options = Configured(host.Services);
        Assert.Equal(["/m/a.onnx"], options.ModelPaths);
        Assert.Equal("db", Assert.Single(options.Modules).Name);
        Assert.Equal(3, options.InferenceEveryTicks);
    }

    [Fact]
    public async Task Start_UnknownKey_FailsTheStartNamingTheKey()
    {
        using var host = Build(Section("""{ "Predictor": { "TickIntervall": "00:00:01" } }"""));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("'TickIntervall'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Predictor's options are: TickInterval (hh:mm:ss.fff), ", ex.Message, StringComparison.Ordinal);
        Assert.Null(host.Services.GetRequiredService<PredictorService>().Loop);
    }

    [Fact]
    public async Task Start_ValueThatDoesNotConvert_FailsTheStartNamingTheKey()
    {
        using var host = Build(Section("""{ "Predictor": { "Backend": "Kubernetes" } }"""));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("'Kubernetes' at 'Predictor:Backend'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Backend (DryRun, Simulated, Linux)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Predictor": { "Backend": [ "Linux" ] } }""", "'Predictor:Backend' is a list or an object, but Backend takes one value (e.g. \"Backend\": \"DryRun\")")]
    [InlineData("""{ "Predictor": { "TickInterval": { "Seconds": 1 } } }""", "'Predictor:TickInterval' is a list or an object, but TickInterval takes one value")]
    [InlineData("""{ "Predictor": { "Modules": [ { "Name": "web", "Pid": 1, "Extra": 2 } ] } }""", "properties were not found on the instance of Predictor.Engine.Telemetry.Collectors.ModuleProcess: 'Extra'")]
    [InlineData("""{ "Predictor": { "Modules": [ { "Name": "web" } ] } }""", "because parameter 'Pid' has no matching config")]
    public async Task Start_ValueOfTheWrongShape_FailsTheStartNamingTheKey(string json, string expected)
    {
        // A list where one value is expected was skipped without a word; a module's bad field was not named.
        using var host = Build(Section(json));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Predictor's options are: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_OutOfRangeValue_FailsWithTheValidatorsMessage()
    {
        using var host = Build(Section("""{ "Predictor": { "TickInterval": "00:00:00", "Modules": [ { "Name": "web", "Pid": 0 } ] } }"""));
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Predictor:TickInterval = 00:00:00 is out of range", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Predictor:Modules: 'web' (pid 0)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPredictor_NullConfiguration_Throws() =>
        Assert.Throws<ArgumentNullException>(() => new ServiceCollection().AddPredictor((IConfiguration)null!));
}
