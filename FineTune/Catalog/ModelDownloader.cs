using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace TransferKit.FineTune.Catalog;

/// <summary>
/// Downloads one file over HTTP(S): streams it to a temporary file beside the destination while hashing, reports
/// progress, and moves it into place only when its sha256 is the expected one. A failed or mismatching download
/// leaves nothing behind.
/// </summary>
public sealed class ModelDownloader
{
    static readonly Lazy<HttpClient> SharedClient = new(() =>
    {
        var client = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("TransferKit", typeof(ModelDownloader).Assembly.GetName().Version?.ToString(3) ?? "0"));
        return client;
    });

    readonly HttpClient _client;
    readonly TextWriter _progress;
    readonly bool _interactive;

    /// <param name="client">The client to use (default: one shared client with a five-minute timeout).</param>
    /// <param name="progress">Where progress goes (default: standard error).</param>
    public ModelDownloader(HttpClient? client = null, TextWriter? progress = null)
    {
        _client = client ?? SharedClient.Value;
        _progress = progress ?? Console.Error;
        // Redraw one line on a terminal; elsewhere (logs, tests) write a line every tenth.
        _interactive = progress == null && !Console.IsErrorRedirected;
    }

    /// <summary>How many requests this downloader has sent.</summary>
    public int Requests { get; private set; }

    /// <summary>
    /// Downloads <paramref name="url"/> to <paramref name="destination"/> (atomically), checking that its sha256 is
    /// <paramref name="expectedSha256"/>.
    /// </summary>
    /// <exception cref="ModelDownloadException">The server answered with an error, the transfer failed, or the hash differs.</exception>
    public void Download(string url, string expectedSha256, string destination)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ModelDownloadException($"Cannot download '{url}': only http and https addresses are supported.");
        var full = Path.GetFullPath(destination);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.part");
        try
        {
            string actual = Fetch(uri, temp);
            if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
                throw new ModelDownloadException($"Download of {url} has sha256 {actual}, but the catalogue expects {expectedSha256.ToLowerInvariant()}; the file was discarded.");
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Streams the body to <paramref name="temp"/>; returns its sha256.</summary>
    string Fetch(Uri uri, string temp)
    {
        _progress.WriteLine($"downloading {uri}");
        Requests++;
        HttpResponseMessage response;
        try { response = _client.Send(new HttpRequestMessage(HttpMethod.Get, uri), HttpCompletionOption.ResponseHeadersRead); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new ModelDownloadException($"Download of {uri} failed: {e.Message}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new ModelDownloadException($"Download of {uri} failed: the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
            long? total = response.Content.Headers.ContentLength;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long received = 0;
            int lastShown = -1;
            var clock = Stopwatch.StartNew();
            try
            {
                using var body = response.Content.ReadAsStream();
                using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                var buffer = new byte[1 << 16];
                int n;
                while ((n = body.Read(buffer)) > 0)
                {
                    file.Write(buffer, 0, n);
                    hash.AppendData(buffer, 0, n);
                    received += n;
                    lastShown = Report(received, total, lastShown, clock);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                throw new ModelDownloadException($"Download of {uri} failed after {received:N0} bytes: {e.Message}", e);
            }
            if (total is long expected && received != expected)
                throw new ModelDownloadException($"Download of {uri} ended after {received:N0} of {expected:N0} bytes.");
            if (_interactive) _progress.WriteLine();
            _progress.WriteLine($"  {received:N0} bytes in {clock.Elapsed.TotalSeconds:F1}s");
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }

    /// <summary>Shows the percentage (or megabytes when the length is unknown) when it moves on; returns what was shown.</summary>
    int Report(long received, long? total, int lastShown, Stopwatch clock)
    {
        int step = total is > 0 ? (int)(100 * received / total.Value) : (int)(received >> 20);
        if (step == lastShown || (!_interactive && total is > 0 && step / 10 == lastShown / 10 && lastShown >= 0)) return lastShown;
        double mb = received / 1048576.0;
        string text = total is > 0 ? $"  {step,3}%  {mb:F1} of {total.Value / 1048576.0:F1} MB" : $"  {mb:F1} MB";
        text += $"  {mb / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):F1} MB/s";
        if (_interactive) _progress.Write("\r" + text);
        else _progress.WriteLine(text);
        return step;
    }
}
