// finetok: turn fine-tuning and pre-training examples into train-ready token arrays.

import Foundation
import Builder
import Tokenizer

let topUsage = """
    finetok — fast, exact BPE tokenization and training-data building

    usage: finetok <command> [options]

    commands:
      encode    text → token ids (JSON arrays)
      decode    token ids → text
      build     JSONL examples or text corpora → input_ids / attention_mask / labels (jsonl, npy,
                safetensors; packed with --pack), or Megatron / flat token files for pre-training
      merge     join the shard folders of `build --shard K/N` into one build's files
      render    chat rows → the text the model sees, with the trained-on parts marked
      lengths   token-length statistics of a dataset, to choose --max-length
      bench     tokenizer throughput (MB/s, tokens/s)
      info      what a vocabulary or model folder loaded as (pipeline, special tokens, chat template)

    Run `finetok <command> --help` for a command's options.
    Exit codes: 0 success, 1 bad input (file, row, vocabulary), 2 usage error, 3 output/I-O error.
    """

/// SIGINT / SIGTERM: remove the temporary outputs of a running build, then exit — unless the
/// build is already moving its finished files into place (milliseconds): that is left to finish.
func installSignalHandlers() -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            guard TemporaryOutputs.removeAll() else { return }
            Console.error(sig == SIGINT ? "interrupted; no output was written" : "terminated; no output was written")
            exit(128 + sig)
        }
        source.resume()
        return source
    }
}

func runMain() -> Int32 {
    let argv = CommandLine.arguments.dropFirst()
    guard let command = argv.first else {
        print(topUsage)
        return 2
    }
    let rest = argv.dropFirst()
    do {
        switch command {
        case "encode": try EncodeCommand.run(rest)
        case "decode": try DecodeCommand.run(rest)
        case "build": try BuildCommand.run(rest)
        case "bench": try BenchCommand.run(rest)
        case "lengths": try LengthsCommand.run(rest)
        case "merge": try MergeCommand.run(rest)
        case "info": try InfoCommand.run(rest)
        case "render": try RenderCommand.run(rest)
        case "-h", "--help", "help": print(topUsage)
        case "--version": print("finetok 0.1.0")
        default:
            let hint = ["encode", "decode", "build", "merge", "render", "lengths", "bench", "info"].min(by: { editDistance($0, command) < editDistance($1, command) })
            throw UsageError("unknown command \"\(command)\"" + (hint.map { " (did you mean \($0)?)" } ?? "") + "; run `finetok --help`")
        }
        Console.out.flush()
        return 0
    } catch let e as UsageError {
        Console.out.flush()
        Console.error("\(e.description)\n(run `finetok \(command) --help` for usage)")
        return 2
    } catch let e as IOFailure {
        Console.out.flush()
        Console.error(e.description)
        return 3
    } catch {
        Console.out.flush()
        Console.error("\(error)")
        return 1
    }
}

/// glibc's malloc maps every block over its (adaptive) threshold with its own mmap and unmaps it
/// on free, so each row's text, ids and String came back as fresh pages: a build of 128 MB of
/// English rows took 106 k page faults and spent ~15% of its time in them. Blocks up to 8 MB
/// now come from the heap, which keeps up to 32 MB free before returning memory: 31 k faults,
/// RSS 115 → 130 MB (benchmarks/README.md, "Round 2, fifth pass"). Only this process;
/// the library and the Python wheel leave their host's allocator alone.
func tuneAllocator() {
    #if canImport(Glibc)
    // Swift's Glibc module leaves out <malloc.h>: mallopt is looked up by name, with its
    // parameters' values from that header (M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3).
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    _ = mallopt(-3, 8 << 20)
    _ = mallopt(-1, 32 << 20)
    #endif
}

/// Returns the heap's free memory to the system (glibc's malloc_trim), for a command whose
/// peak should not carry the load's garbage (`finetok bench`). A build does not call it: its
/// rows reuse that memory, where pages given back would fault in again.
func releaseFreeMemory() {
    #if canImport(Glibc)
    typealias Trim = @convention(c) (Int) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
    _ = unsafeBitCast(symbol, to: Trim.self)(0)
    #endif
}

tuneAllocator()
// A file-size limit (ulimit -f) must surface as a write error (EFBIG), not kill the process.
signal(SIGXFSZ, SIG_IGN)
let signalSources = installSignalHandlers()
let status = runMain()
// A signal discarded the build's files and its handler is exiting with 128 + signal; a failure
// the build met because its files vanished must not exit first with another status.
while status != 0 && TemporaryOutputs.abandonedBySignal { sleep(1) }
exit(status)
