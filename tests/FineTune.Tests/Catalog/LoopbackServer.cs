using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace TransferKit.FineTune.Tests.Catalog;

/// <summary>
/// A minimal HTTP server on 127.0.0.1 at a free port, serving fixed byte arrays by path (404 for anything else) and
/// counting the requests it receives. Tests use it instead of the internet.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    readonly HttpListener _listener;
    readonly ConcurrentDictionary<string, byte[]> _files = new();
    readonly Task _loop;
    int _requests;

    public LoopbackServer()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                _listener = listener;
                BaseUrl = $"http://127.0.0.1:{port}";
                break;
            }
            catch (HttpListenerException) when (attempt < 5) { listener.Close(); }
        }
        _loop = Task.Run(Serve);
    }

    /// <summary>http://127.0.0.1:port (no trailing slash).</summary>
    public string BaseUrl { get; }

    /// <summary>Requests received so far, for any path.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Serves <paramref name="bytes"/> at <paramref name="path"/> (starting with '/'); returns its full URL.</summary>
    public string Add(string path, byte[] bytes)
    {
        _files[path] = bytes;
        return BaseUrl + path;
    }

    static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            Interlocked.Increment(ref _requests);
            var response = context.Response;
            try
            {
                if (_files.TryGetValue(context.Request.Url!.AbsolutePath, out var bytes))
                {
                    response.StatusCode = 200;
                    response.ContentType = "application/octet-stream";
                    response.ContentLength64 = bytes.Length;
                    await response.OutputStream.WriteAsync(bytes);
                }
                else
                {
                    response.StatusCode = 404;
                    response.StatusDescription = "Not Found";
                }
            }
            catch (HttpListenerException) { }
            finally { response.Close(); }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
