using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sair.Grains.Albums;
using Sair.Grains.Faces;
using Sair.Grains.Hosting;
using Sair.Grains.Jobs;
using Sair.Grains.Pools;
using Sair.Grains.Training;

namespace Sair.Grains.Tenancy;

/// <summary>
/// The door every call to a grid grain passes. On a grid with tenants (<see cref="TenancyOptions.SigningKey"/>) a call
/// must show who makes it: the silos' own calls carry a credential derived from the key (<see cref="SiloCallStamp"/>);
/// any other call, wherever it claims to come from, is a client's and needs a valid tenant token, may reach only methods
/// clients may call, and only objects of its tenant (or of none yet). An admitted client call then acts for its tenant
/// (<see cref="TenantContext.Current"/>), which is how new pools, albums, jobs and training runs get their owner, and the
/// silos' calls made for it carry that tenant on. On a grid without tenants calls pass unchanged, but a client's own
/// claim of a tenant is dropped.
/// </summary>
internal sealed class TenantGate : IIncomingGrainCallFilter
{
    /// <summary>Interfaces only the silos call: job reports, an album's job sink, the composer, the ownership questions, a tenant's job count and storage.</summary>
    private static readonly HashSet<Type> SilosOnly =
    [
        typeof(IAlbumJobSink), typeof(IEngineJobReports), typeof(IRestorationJobReports), typeof(ITrainingJobReports),
        typeof(IPhotoComposerGrain), typeof(IAlbumOwnership), typeof(IPoolOwnership), typeof(ITenantJobsGrain), typeof(ITenantStorageGrain),
    ];

    /// <summary>Methods of client interfaces that only the silos call: albums start jobs; engines attach latents.</summary>
    private static readonly HashSet<(Type, string)> SilosOnlyMethods =
    [
        (typeof(IRestorationJobGrain), nameof(IRestorationJobGrain.StartAsync)),
        (typeof(IReferencePoolGrain), nameof(IReferencePoolGrain.AttachLatentAsync)),
    ];

    private readonly byte[]? _key;
    private readonly byte[]? _siloCredential;
    private readonly TimeProvider _time;
    private readonly ILogger<TenantGate> _logger;

    public TenantGate(IOptions<TenancyOptions> options, TimeProvider time, ILogger<TenantGate> logger)
    {
        _key = options.Value.Key();
        _siloCredential = _key is null ? null : Encoding.ASCII.GetBytes(SiloCallStamp.Credential(_key));
        _time = time;
        _logger = logger;
    }

    public Task Invoke(IIncomingGrainCallContext context)
    {
        // The token and the silos' credential go no further than here; only the gate says which tenant a call is for.
        var token = RequestContext.Get(TenantContext.TokenKey) as string;
        var credential = RequestContext.Get(SiloCallStamp.Key) as string;
        RequestContext.Remove(TenantContext.TokenKey);
        RequestContext.Remove(SiloCallStamp.Key);
        if (_key is null)
        {
            if (ClientFacingExceptionFilter.FromClient(context.SourceId))
            {
                TenantContext.ActFor(null);
            }

            return context.Invoke();
        }

        if (context.TargetContext?.GrainInstance is not { } grain || grain.GetType().Assembly != typeof(TenantGate).Assembly
            || SiloCallStamp.Verify(credential, _siloCredential!) || IsTick(context))
        {
            return context.Invoke();
        }

        TenantContext.ActFor(null);
        if (!TenantToken.TryVerify(token, _key, _time.GetUtcNow(), out var tenant, out var problem))
        {
            return Refuse(context, $"This grid has tenants and {problem}: ask its operator for a token and set {TenantContext.TokenVariable}.");
        }

        if (context.InterfaceMethod is { } method && (SilosOnly.Contains(method.DeclaringType!) || SilosOnlyMethods.Contains((method.DeclaringType!, method.Name))))
        {
            return Refuse(context, $"{context.InterfaceName}.{context.MethodName} is called by the grid's silos, not by clients.");
        }

        if (grain is ITenantOwned { Tenant: { } owner } && owner != tenant)
        {
            return Refuse(context, $"'{context.TargetId.Key}' belongs to another tenant: choose another name, or ask its owner.");
        }

        TenantContext.ActFor(tenant);
        return context.Invoke();
    }

    /// <summary>
    /// A grain timer's tick (made inside the grain's own silo; Orleans cannot receive one from the wire) or a durable
    /// reminder's tick, which the silos' reminder service delivers: both without a grain call's context.
    /// </summary>
    private static bool IsTick(IIncomingGrainCallContext context) =>
        context.InterfaceMethod?.DeclaringType?.FullName == GrainTimerInvoker
        || (context.InterfaceMethod?.DeclaringType == typeof(IRemindable) && context.SourceId is { } source && source.IsSystemTarget());

    /// <summary>The (internal) interface through which Orleans delivers a grain timer's tick as a call.</summary>
    private const string GrainTimerInvoker = "Orleans.Runtime.IGrainTimerInvoker";

    private Task Refuse(IIncomingGrainCallContext context, string message)
    {
        _logger.LogWarning("Refused {Interface}.{Method} on {Grain} from {Source}: {Reason}",
            context.InterfaceName, context.MethodName, context.TargetId, context.SourceId, message);
        throw new GridAccessDeniedException(message);
    }
}

/// <summary>
/// Stamps every call a silo makes (from a grain, a timer or a hosted service) with the silos' credential on a grid with
/// tenants, so that <see cref="TenantGate"/> tells them from clients' calls by something a client cannot forge (the
/// source id a call names is the caller's to choose). The credential never leaves the silos: they make no calls into
/// clients.
/// </summary>
internal sealed class SiloCallStamp(IOptions<TenancyOptions> options) : IOutgoingGrainCallFilter
{
    /// <summary>The request-context key of the silos' credential.</summary>
    public const string Key = "sair.silo";

    private readonly string? _credential = options.Value.Key() is { } key ? Credential(key) : null;

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        if (_credential is not null)
        {
            RequestContext.Set(Key, _credential);
        }

        return context.Invoke();
    }

    /// <summary>The credential: an HMAC of a fixed label under the grid's key.</summary>
    public static string Credential(byte[] key) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("sair silo call")));

    public static bool Verify(string? credential, byte[] expected) =>
        credential is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(credential), expected);
}
