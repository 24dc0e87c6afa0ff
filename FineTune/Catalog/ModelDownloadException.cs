namespace TransferKit.FineTune.Catalog;

/// <summary>
/// A catalogue model could not be fetched or made: the server refused, the connection failed, or the bytes do not
/// have the catalogue's sha256. The message names the address (or file) and, for a hash mismatch, both hashes.
/// </summary>
public sealed class ModelDownloadException(string message, Exception? inner = null) : IOException(message, inner);
