/**
 * The mlopt program. Only commander is loaded at start-up; each command imports what it
 * needs when it runs, so `mlopt --help` stays instant.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { MloptError, errorText } from '../util/errors.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function intOption(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min} (got "${v}")`);
    return n;
  };
}

export function numberOption(name: string) {
  return (v: string): number => {
    const n = Number(v.includes('/') ? Number(v.split('/')[0]) / Number(v.split('/')[1]) : v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number or a fraction like 1/255 (got "${v}")`);
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command();
  // set before the subcommands are added, so that they inherit it: commander must throw, not exit
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .name('mlopt')
    .description('Inspect, convert, optimize and benchmark ML models (ONNX, TFLite, Keras, SavedModel, TF.js) — no Python needed.')
    .version(version(), '-V, --version', 'print the mlopt version')
    .option('--verbose', 'print stack traces and runtime details on errors')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Examples:
  $ mlopt inspect fixtures/models/fmnist_cnn.onnx
  $ mlopt convert model.onnx --to onnx -o model.clean.onnx
  $ mlopt bench fixtures/models/fmnist_cnn.onnx --data fixtures/data/fmnist_test_1000.npz
  $ mlopt quantize fixtures/models/fmnist_cnn.onnx --dynamic

Exit codes: 0 ok, 1 failure, 2 usage error.
`);

  program
    .command('inspect')
    .description('show a model: format, producer, opset, inputs/outputs, op histogram, parameters, size, dtypes, quantization, sparsity')
    .argument('<model>', 'model file or directory')
    .option('--json', 'print only JSON on stdout')
    .option('--ir', 'print the whole IR graph as readable JSON (for debugging)')
    .addHelpText('after', `
Examples:
  $ mlopt inspect fixtures/models/fmnist_cnn.onnx
  $ mlopt inspect model.onnx --json | jq .inputs
  $ mlopt inspect model.onnx --ir > model.ir.json`)
    .action(async (model: string, opts: { json?: boolean; ir?: boolean }) => {
      const { inspectCommand } = await import('./inspect.js');
      await inspectCommand(model, opts);
    });

  program
    .command('convert')
    .description('convert a model to another format (through the IR); with --to onnx on an ONNX model, re-write it')
    .argument('<model>', 'model file or directory')
    .option('--to <format>', 'output format: onnx | tflite | tfjs (default: the input format, when mlopt can write it)')
    .option('-o, --output <path>', 'output path (default: ./<input-stem>.converted.<ext>)')
    .option('--force', 'overwrite the output if it exists')
    .option('--no-check', 'skip running the output in its runtime to compare it with the input')
    .option('--float16', 'convert and quantize in one step: the same as `mlopt quantize --float16 --to <format>`')
    .option('--dynamic', 'the same as `mlopt quantize --dynamic --to <format>`')
    .option('--int8', 'the same as `mlopt quantize --int8 --to <format>` (needs --calibration-data)')
    .option('--calibration-data <file>', 'with --int8: calibration samples')
    .option('--io-type <type>', 'with --int8 --to tflite: float32 | int8 | uint8 inputs and outputs')
    .option('--tfjs-format <kind>', 'with --to tfjs: graph | layers (default: layers for Keras models, else graph)')
    .option('--quantize <dtype>', 'with --to tfjs: store weights as float16, uint8 or uint16 (as tensorflowjs_converter --quantize_*)')
    .option('--quantize-weights <patterns...>', 'with --quantize: only weights whose names match these wildcards (e.g. "conv*/kernel")')
    .option('--weight-shard-size <size>', 'with --to tfjs: weight shard size, e.g. 4MB (default) or 1048576')
    .option('--json', 'print only JSON on stdout')
    .addHelpText('after', `
Examples:
  $ mlopt convert model.onnx --to onnx -o model.copy.onnx
  $ mlopt convert model.h5 --to tfjs -o web_model
  $ mlopt convert model.keras --to tfjs --tfjs-format graph --quantize uint8 -o web_model
  $ mlopt convert model.onnx -o out/model.onnx --force
  $ mlopt convert model.onnx --to tflite
  $ mlopt convert model.onnx --to tflite --int8 --calibration-data calib.npz

After writing, mlopt runs the input and the output in their runtimes (onnxruntime, LiteRT.js, TF.js) on
the same random input and reports the largest difference (skip with --no-check). With --float16,
--dynamic or --int8 it runs \`mlopt quantize\` instead, which measures the result (see its --help).`)
    .action(async (model: string, opts: import('./convert.js').ConvertCommandOptions & { float16?: boolean; dynamic?: boolean; int8?: boolean; calibrationData?: string; ioType?: string }) => {
      if ((opts.float16 || opts.dynamic || opts.int8) && opts.to === 'tfjs') {
        throw new MloptError('USAGE', `--${opts.float16 ? 'float16' : opts.dynamic ? 'dynamic' : 'int8'} does not apply to --to tfjs`, 'TF.js stores quantized weights itself: use --quantize float16, uint8 or uint16');
      }
      if (opts.float16 || opts.dynamic || opts.int8) {
        const { quantizeCommand } = await import('./quantize.js');
        await quantizeCommand(model, {
          float16: opts.float16, dynamic: opts.dynamic, int8: opts.int8, to: opts.to, output: opts.output, force: opts.force, json: opts.json,
          calibrationData: opts.calibrationData, ioType: opts.ioType, keepIoTypes: true, device: 'cpu', calibrationSamples: 200, batch: 32, runs: 50, warmup: 5,
        });
        return;
      }
      if (opts.calibrationData || opts.ioType) throw new MloptError('USAGE', '--calibration-data and --io-type go with --int8');
      const { convertCommand } = await import('./convert.js');
      await convertCommand(model, opts);
    });

  program
    .command('bench')
    .description('benchmark one or more models: size, latency p50/p90/p99, throughput, and accuracy/agreement with --data')
    .argument('<models...>', 'model files or directories; the first is the reference for agreement')
    .option('--data <file>', 'labelled data: .npz (x, y), .npy, or IDX (*-images-idx3-ubyte[.gz])')
    .option('--batch <n>', 'batch size for timing (symbolic batch dims)', intOption('--batch', 1), 1)
    .option('--runs <n>', 'timed runs per model', intOption('--runs', 1), 50)
    .option('--warmup <n>', 'warm-up runs per model', intOption('--warmup', 0), 5)
    .option('--threads <n>', 'intra-op threads (default: the runtime\'s own choice)', intOption('--threads', 1))
    .option('--device <device>', 'cpu | gpu', 'cpu')
    .option('--scale <x>', 'multiply uint8 image data by this (default 1/255 for uint8 data)', numberOption('--scale'))
    .option('--json', 'print only JSON on stdout')
    .option('--markdown', 'print a Markdown table (for CI summaries)')
    .addHelpText('after', `
Examples:
  $ mlopt bench fixtures/models/fmnist_cnn.onnx --data fixtures/data/fmnist_test_1000.npz
  $ mlopt bench a.onnx b.onnx --runs 200 --warmup 20 --batch 8 --threads 1
  $ mlopt bench model.onnx --json > bench.json
  $ mlopt bench model.onnx --markdown >> "$GITHUB_STEP_SUMMARY"`)
    .action(async (models: string[], opts: import('./bench.js').BenchCliOptions) => {
      const { benchCommand } = await import('./bench.js');
      await benchCommand(models, opts);
    });

  program
    .command('quantize')
    .description('post-training quantization: --int8 (static, calibrated), --dynamic (int8 weights) or --float16; prints size, latency and accuracy against the float model')
    .argument('<model>', 'model file (ONNX)')
    .option('--int8', 'static full-integer int8: per-channel int8 weights, calibrated int8/uint8 activations (needs --calibration-data)')
    .option('--dynamic', 'dynamic int8: int8 weights, activations quantized at run time (no data needed)')
    .option('--float16', 'float16 weights and compute')
    .option('-o, --output <path>', 'output path (default: ./<input-stem>.<int8|dynamic|fp16>.onnx)')
    .option('--to <format>', 'output format: onnx | tflite (default: the input\'s format)')
    .option('--io-type <type>', 'with --int8 --to tflite: float32 (QUANTIZE/DEQUANTIZE at the edges, default) | int8 | uint8 inputs and outputs')
    .option('--force', 'overwrite the output if it exists')
    .option('--calibration-data <file>', 'calibration samples: .npz, .npy or IDX, as for bench --data')
    .option('--calibration-samples <n>', 'samples of the calibration data to use', intOption('--calibration-samples', 1), 200)
    .option('--calibration-method <m>', 'minmax | percentile | entropy (KL-divergence threshold search)')
    .option('--percentile <p>', 'percentile for --calibration-method percentile (default 99.99)', (v: string) => Number(v))
    .option('--per-tensor', 'one weight scale per tensor instead of per output channel')
    .option('--activation-type <t>', 'int8 | uint8 activations for --int8 (default uint8: the fastest on onnxruntime x86)')
    .option('--dynamic-conv <how>', 'with --dynamic, Conv as weight-only (int8 weights, float compute; default) or integer (ConvInteger)')
    .option('--no-keep-io-types', 'with --float16, make the graph inputs and outputs float16 too')
    .option('--exclude <pattern...>', 'keep nodes in float: an op type (e.g. Gemm) or a node-name glob (e.g. "*fc1*")')
    .option('--eval-data <file>', 'labelled data to measure accuracy (without it: agreement with the float model)')
    .option('--scale <x>', 'multiply uint8 image data by this (default 1/255 for uint8 data)', numberOption('--scale'))
    .option('--report-layers', 'list the SQNR of every quantized node\'s output, worst first')
    .option('--max-accuracy-drop <points>', 'with --eval-data: put the most damaged nodes back in float until the top-1 drop is within this many points', (v: string) => Number(v))
    .option('--batch <n>', 'batch size for evaluation and timing', intOption('--batch', 1), 32)
    .option('--runs <n>', 'timed runs per model', intOption('--runs', 1), 50)
    .option('--warmup <n>', 'warm-up runs per model', intOption('--warmup', 0), 5)
    .option('--threads <n>', 'intra-op threads (default: the runtime\'s own choice)', intOption('--threads', 1))
    .option('--device <device>', 'cpu | gpu (for the measurements)', 'cpu')
    .option('--json', 'print only JSON on stdout')
    .option('--markdown', 'print Markdown tables')
    .addHelpText('after', `
Examples:
  $ mlopt quantize fixtures/models/fmnist_cnn.onnx --int8 --calibration-data fixtures/data/fmnist_train_2000.npz --eval-data fixtures/data/fmnist_test_1000.npz
  $ mlopt quantize model.onnx --dynamic -o model.int8.onnx
  $ mlopt quantize model.onnx --float16
  $ mlopt quantize model.onnx --int8 --calibration-data calib.npz --to tflite --io-type int8
  $ mlopt quantize model.onnx --int8 --calibration-data calib.npz --calibration-method entropy --report-layers
  $ mlopt quantize model.onnx --int8 --calibration-data calib.npz --eval-data test.npz --max-accuracy-drop 0.5

The output is written only after it has been run in onnxruntime and measured.`)
    .action(async (model: string, opts: import('./quantize.js').QuantizeCliOptions) => {
      const { quantizeCommand } = await import('./quantize.js');
      await quantizeCommand(model, opts);
    });

  {
    // parsers stay lenient (numbers, integers): the library checks every range in one line
    const num = (flag: string) => (v: string): number => {
      const s = v.trim();
      const n = s.endsWith('%') ? Number(s.slice(0, -1)) / 100 : Number(s);
      if (s === '' || Number.isNaN(n)) throw new MloptError('USAGE', `${flag} must be a number (got "${v}")`);
      return n;
    };
    program
      .command('prune')
      .description('magnitude pruning (tfmot-style polynomial / constant schedules; unstructured, block or 2:4), fine-tuned on --data; prints sparsity, size, latency and accuracy before/after')
      .argument('<model>', 'model file or directory (Keras .h5/.keras, ONNX, TFLite, TF.js)')
      .option('--final-sparsity <s>', 'fraction of each pruned weight set to zero at the end, in [0, 1) (e.g. 0.9 or 90%)', num('--final-sparsity'))
      .option('--initial-sparsity <s>', 'polynomial schedule: sparsity at --begin-step (default 0)', num('--initial-sparsity'))
      .option('--schedule <kind>', 'polynomial (tfmot PolynomialDecay; default) | constant (ConstantSparsity; the default for N:M)')
      .option('--begin-step <n>', 'first training step that updates the masks (default 0)', num('--begin-step'))
      .option('--end-step <n>', 'step at which the final sparsity is reached (default: see below)', num('--end-step'))
      .option('--power <p>', 'polynomial schedule exponent (default 3)', num('--power'))
      .option('--frequency <n>', 'update the masks every n steps (default 100, lowered so the masks are updated ≥ 10 times)', num('--frequency'))
      .option('--granularity <g>', 'unstructured (default) | block:RxC[:avg|max] (e.g. block:4x1) | N:M (e.g. 2:4, along input channels)')
      .option('--global', 'rank magnitudes across all pruned layers together (unstructured / block)')
      .option('--layers <patterns...>', 'prune only these layers: node or weight names, or a /-separated part of one, with * and ? (then the first/last layer are not kept dense)')
      .option('--exclude <patterns...>', 'leave these layers dense (same patterns)')
      .option('--data <file>', 'labelled training data for fine-tuning (.npz x/y, .npy, IDX); without it: one-shot pruning')
      .option('--eval-data <file>', 'labelled data to measure accuracy before/after (and after every epoch)')
      .option('--epochs <n>', 'fine-tuning epochs (default 2; with only --end-step: enough to reach it)', num('--epochs'))
      .option('--batch-size <n>', 'fine-tuning batch size (default 32)', num('--batch-size'))
      .option('--learning-rate <lr>', 'default 0.001 (adam) or 0.01 (sgd)', num('--learning-rate'))
      .option('--optimizer <name>', 'adam (default) | sgd')
      .option('--no-shuffle', 'train on the samples in file order (default: shuffled every epoch, with --seed)')
      .option('--scale <x>', 'multiply uint8 data by this (default 1/255 for uint8 data)', num('--scale'))
      .option('--to <format>', 'output format: onnx | tflite | tfjs (default: from the -o extension, else the input\'s format when mlopt writes it)')
      .option('-o, --output <path>', 'output path (default: ./<input-stem>.pruned.<ext>)')
      .option('--force', 'overwrite the output if it exists')
      .option('--seed <n>', 'seed for shuffling and dropout (default 1)', num('--seed'))
      .option('--runs <n>', 'timed runs per model for the latency figures (default 20)', num('--runs'))
      .option('--warmup <n>', 'warm-up runs per model (default 3)', num('--warmup'))
      .option('--json', 'print only JSON on stdout')
      .option('--markdown', 'print Markdown tables')
      .addHelpText('after', `
Examples:
  $ mlopt prune fixtures/models/fmnist_cnn.h5 --final-sparsity 0.9 --initial-sparsity 0.5 --data fixtures/data/fmnist_train_2000.npz --eval-data fixtures/data/fmnist_test_1000.npz --epochs 2 -o cnn.pruned.onnx
  $ mlopt prune model.onnx --granularity 2:4 --data train.npz --eval-data test.npz --to tflite
  $ mlopt prune web_model/ --final-sparsity 0.75 --data train.npz -o web_model_pruned
  $ mlopt prune model.onnx --final-sparsity 0.5 --exclude fc1 --json

Schedule (tfmot semantics): steps count the training batches from 1. Before the batch of step t,
when begin ≤ t ≤ end and (t − begin) is a multiple of the frequency, the masks are recomputed
from the weights' magnitudes at sparsity  final + (initial − final)·(1 − (t − begin)/(end − begin))^power ;
the pruned weights stay zero through every optimizer step. An N:M mask (2:4) is set once, before
the first batch, and takes no schedule options.
Defaults for T training steps (epochs × ⌈samples / batch⌉): frequency = min(100, max(1,
⌊(0.9·T − begin)/10⌋)) (⌊(end − begin)/10⌋ with --end-step), so the masks change ~10 times;
end = begin + frequency·⌊(0.9·T − begin)/frequency⌋, so the final sparsity is reached at a mask
update and held for the last ~10% of the steps.
By default the first and the last prunable layer stay dense (the report says so). Without
--data the weights are pruned once to the final sparsity, with a warning.
The dense and the pruned model are both written in the output format and run in its runtime
(onnxruntime, LiteRT.js, TF.js): accuracy, latency, and raw / gzip size (where pruning pays).`)
      .action(async (model: string, opts: import('./prune.js').PruneCliOptions) => {
        const { pruneCommand } = await import('./prune.js');
        await pruneCommand(model, opts);
      });
  }

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof MloptError) {
      process.stderr.write(`mlopt: ${err.message}\n`);
      if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
      if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`mlopt: internal error: ${errorText(err)}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('hint: run again with --verbose for the stack trace, and please report it\n');
    process.exitCode = 1;
  }
}
