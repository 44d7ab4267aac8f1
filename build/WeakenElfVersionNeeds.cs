// MSBuild task (compiled by RoslynCodeTaskFactory, see Directory.Build.targets).
//
// libLibTorchSharp.so from TorchSharp 0.107 asks for GLIBCXX_3.4.32, which the libstdc++ of GCC 12 (Debian 12)
// lacks, so the first torch call fails to load it. Only one symbol carries that version and nothing relocates
// against it, so marking the version requirement weak (VER_FLG_WEAK in its Vernaux entry) lets the dynamic loader
// accept an older libstdc++ while a newer one is used as before. The build copies the file again on every build,
// so this runs after every build and publish. It is idempotent and a no-op on files that do not need it.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenElfVersionNeeds : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required] public string Versions { get; set; } = "";

    public override bool Execute()
    {
        var wanted = new HashSet<string>(Versions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries).Select(v => v.Trim()));
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var patched = Patch(path, wanted);
                if (patched.Count > 0)
                {
                    Log.LogMessage(MessageImportance.High, $"SairGrid: marked {string.Join(", ", patched)} weak in {path}");
                }
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"SairGrid: could not patch the ELF version needs of '{path}': {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static List<string> Patch(string path, HashSet<string> wanted)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }
        if (bytes[4] != 2 || bytes[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF files are handled");
        }

        var shoff = (long)BitConverter.ToUInt64(bytes, 0x28);
        int shentsize = BitConverter.ToUInt16(bytes, 0x3A);
        int shnum = BitConverter.ToUInt16(bytes, 0x3C);
        var patched = new List<string>();
        for (var i = 0; i < shnum; i++)
        {
            var sh = checked((int)(shoff + (long)i * shentsize));
            if (BitConverter.ToUInt32(bytes, sh + 4) != ShtGnuVerneed)
            {
                continue;
            }
            var offset = checked((int)BitConverter.ToUInt64(bytes, sh + 24));
            var link = (int)BitConverter.ToUInt32(bytes, sh + 40);
            var count = (int)BitConverter.ToUInt32(bytes, sh + 44);
            var strtab = checked((int)BitConverter.ToUInt64(bytes, checked((int)(shoff + (long)link * shentsize)) + 24));

            var need = offset;
            for (var n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(bytes, need + 2);
                var aux = need + (int)BitConverter.ToUInt32(bytes, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var name = ReadCString(bytes, strtab + (int)BitConverter.ToUInt32(bytes, aux + 8));
                    var flags = BitConverter.ToUInt16(bytes, aux + 4);
                    if (wanted.Contains(name) && (flags & VerFlgWeak) == 0)
                    {
                        var weak = BitConverter.GetBytes((ushort)(flags | VerFlgWeak));
                        bytes[aux + 4] = weak[0];
                        bytes[aux + 5] = weak[1];
                        patched.Add(name);
                    }
                    aux += (int)BitConverter.ToUInt32(bytes, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(bytes, need + 12);
            }
        }

        if (patched.Count > 0)
        {
            // Write beside and rename over it: a crash never leaves a half-written library behind, and the library
            // gets a new inode, so a hard link into the NuGet cache (CreateHardLinksForCopyLocalIfPossible) is
            // replaced, never written through.
            var temp = path + ".sairpatch";
            File.WriteAllBytes(temp, bytes);
            File.Replace(temp, path, destinationBackupFileName: null);
        }
        return patched;
    }

    private static string ReadCString(byte[] bytes, int start)
    {
        var end = start;
        while (end < bytes.Length && bytes[end] != 0)
        {
            end++;
        }
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }
}
