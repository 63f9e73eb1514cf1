// Runs one execution of a Step Functions definition locally (aws-local-stepfunctions), with
// every `arn:aws:states:::lambda:invoke` Task sent to a function behind `cargo lambda watch`
// and every `arn:aws:states:::sns:publish` Task recorded instead of sent.
//
//   node run-execution.mjs <definition.asl.json> <input JSON> <functions JSON>
//
// <functions JSON> maps each FunctionName placeholder of the definition (`SnapshotFunctionArn`
// for `${SnapshotFunctionArn}`) to that function's local invoke URL. Wait states last
// OSNAP_SFN_WAIT_MS and Retry pauses OSNAP_SFN_RETRY_MS (default 100 each), so a test does not
// sleep for the minutes the definition asks for on AWS; everything else is the definition's.
//
// Prints one JSON object: {status: SUCCEEDED|FAILED, output | error and cause, notifications,
// states (entered, in order), retries, payloads (the largest state input or output and
// Lambda result, in bytes)}. While it runs, each state entered, retry and caught
// error is printed to stderr as one JSON line, so a test can react to the execution as it goes.
// Exits non-zero only if the execution could not be run at all.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// aws-local-stepfunctions lives with the pinned Node 22 under .tools/node22 (`./dev test`).
const require = createRequire(new URL('../../.tools/node22/package.json', import.meta.url));
const { StateMachine, ExecutionError } = require('aws-local-stepfunctions');

const [definitionPath, inputJson, functionsJson] = process.argv.slice(2);
if (!functionsJson) {
  console.error('usage: run-execution.mjs <definition.asl.json> <input JSON> <functions JSON>');
  process.exit(2);
}
const waitMs = Number(process.env.OSNAP_SFN_WAIT_MS ?? 100);
const retryMs = Number(process.env.OSNAP_SFN_RETRY_MS ?? 100);

// SAM substitutes the `${...}` placeholders with ARNs at deploy time; do the same with fake
// ones, and remember which local URL each function ARN stands for.
const ACCOUNT = 'arn:aws:lambda:us-east-1:123456789012';
const functions = JSON.parse(functionsJson);
const invokeUrls = new Map();
const definitionText = readFileSync(definitionPath, 'utf8').replace(/\$\{(\w+)\}/g, (_, name) => {
  if (name.endsWith('TopicArn')) return `arn:aws:sns:us-east-1:123456789012:${name.slice(0, -3)}`;
  if (!name.endsWith('FunctionArn')) throw new Error(`unknown placeholder \${${name}}`);
  if (!functions[name]) throw new Error(`no invoke URL given for \${${name}}`);
  const arn = `${ACCOUNT}:function:${name.slice(0, -3)}`;
  invokeUrls.set(arn, functions[name]);
  return arn;
});
const definition = JSON.parse(definitionText);

// The real lambda:invoke integration: the Payload goes in, {Payload, StatusCode} comes out,
// and a function error fails the Task with the function's errorType as the error name (what
// Retry/Catch ErrorEquals match; the library matches on the thrown error's `name`) and the
// error object as the cause.
async function invokeLambda({ FunctionName, Payload }) {
  const url = invokeUrls.get(FunctionName);
  if (!url) throw new Error(`no local function for ${FunctionName}`);
  let response;
  try {
    response = await fetch(url, { method: 'POST', body: JSON.stringify(Payload ?? {}) });
  } catch (e) {
    throw taskError('Lambda.SdkClientException', `${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await response.text();
  notePayload(`${FunctionName.split(':').pop()} result`, Buffer.byteLength(text, 'utf8'), 'lambda');
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: only the Lambda service itself answers that way.
  }
  if (response.ok) return { Payload: body, StatusCode: 200 };
  // `cargo lambda watch` answers a function error with 500 and {errorType, errorMessage}.
  if (typeof body?.errorType === 'string') throw taskError(body.errorType, text);
  throw taskError('Lambda.ServiceException', `HTTP ${response.status}: ${text}`);
}

function taskError(name, cause) {
  const error = new Error(cause);
  error.name = name;
  return error;
}

// Step Functions fails an execution, uncatchably, when a state's input or output or a Lambda
// result exceeds 256 KB (UTF-8); the local engine does not check it, so the driver measures
// every one and reports the largest of each kind.
const payloads = {
  max_state_bytes: 0,
  largest_state: null,
  max_lambda_result_bytes: 0,
  largest_lambda_result: null,
};
function notePayload(what, bytes, kind) {
  const key = kind === 'lambda' ? 'max_lambda_result_bytes' : 'max_state_bytes';
  const name = kind === 'lambda' ? 'largest_lambda_result' : 'largest_state';
  if (bytes > payloads[key]) {
    payloads[key] = bytes;
    payloads[name] = what;
  }
}
const sizeOf = (value) => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

const notifications = [];
async function publish({ TopicArn, Subject, Message }) {
  notifications.push({ topic: TopicArn, subject: Subject, message: Message });
  return { MessageId: `local-${notifications.length}` };
}

const RESOURCES = {
  'arn:aws:states:::lambda:invoke': invokeLambda,
  'arn:aws:states:::sns:publish': publish,
};

// OSNAP_SFN_PAUSE_BEFORE names a Task state: the first time it runs, the driver prints
// {"event": "Paused", "state": name} to stderr and waits for a line on stdin before the
// task goes on, so a test can change the world at that exact point of the execution.
const pauseBefore = process.env.OSNAP_SFN_PAUSE_BEFORE;
let pausedOnce = false;
function pausing(handler, name) {
  return async (input) => {
    if (!pausedOnce) {
      pausedOnce = true;
      console.error(JSON.stringify({ event: 'Paused', state: name }));
      await nextStdinLine();
    }
    return handler(input);
  };
}
function nextStdinLine() {
  return new Promise((resolve) => {
    let buffered = '';
    const onData = (chunk) => {
      buffered += chunk;
      if (buffered.includes('\n')) {
        process.stdin.off('data', onData);
        // The driver pauses once: let go of stdin, or it keeps the process alive.
        process.stdin.destroy();
        resolve();
      }
    };
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', onData);
    process.stdin.resume();
  });
}

// The library keys its overrides by state name, also for states inside a Map or Parallel.
const taskHandlers = {};
const waitTimeOverrides = {};
const retryIntervalOverrides = {};
function collect(states) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') {
      const handler = RESOURCES[state.Resource];
      if (!handler) throw new Error(`${name}: no local handler for ${state.Resource}`);
      if (taskHandlers[name] && name !== pauseBefore && taskHandlers[name] !== handler) {
        throw new Error(`two Task states named ${name} with different resources`);
      }
      taskHandlers[name] = name === pauseBefore ? pausing(handler, name) : handler;
    }
    if (state.Type === 'Wait') waitTimeOverrides[name] = waitMs;
    if (state.Retry) retryIntervalOverrides[name] = retryMs;
    const nested = [state.ItemProcessor ?? state.Iterator, ...(state.Branches ?? [])];
    for (const machine of nested) if (machine) collect(machine.States);
  }
}
collect(definition.States);

// The context object AWS gives every execution beside its input and start time.
const machineName = definitionPath.split('/').pop().replace(/\.asl\.json$/, '');
const executionName = `local-${process.pid}`;
const context = {
  Execution: {
    Id: `arn:aws:states:us-east-1:123456789012:execution:${machineName}:${executionName}`,
    Name: executionName,
  },
};
// OSNAP_SFN_START_TIME (ISO 8601) is the time a schedule started the execution, for tests that
// simulate many nights. aws-local-stepfunctions stamps an execution with `new Date()`, so the
// wall clock of this process is moved to start there (timers are not affected).
if (process.env.OSNAP_SFN_START_TIME) {
  const RealDate = Date;
  const offset = RealDate.parse(process.env.OSNAP_SFN_START_TIME) - RealDate.now();
  if (Number.isNaN(offset)) throw new Error('OSNAP_SFN_START_TIME is not an ISO 8601 time');
  globalThis.Date = class extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  };
}
const execution = new StateMachine(definition).run(JSON.parse(inputJson), {
  overrides: { taskResourceLocalHandlers: taskHandlers, waitTimeOverrides, retryIntervalOverrides },
  context,
});

// The history a test asserts on: the states entered, and which errors were retried. Each
// state entered, retry and caught error is also a JSON line on stderr as it happens.
const states = [];
const retries = [];
const history = (async () => {
  const lastError = new Map();
  for await (const event of execution.eventLogs) {
    const state = event.state?.name;
    const where = event.index === undefined ? state : `${state}[${event.index}]`;
    if (event.type === 'StateEntered') notePayload(`${where} input`, sizeOf(event.state.input));
    if (event.type === 'StateExited') notePayload(`${where} output`, sizeOf(event.state.output));
    if (event.type === 'StateEntered') {
      states.push(state);
      console.error(JSON.stringify({ event: event.type, state: where }));
    }
    if (event.type === 'StateFailed') lastError.set(where, { error: event.Error, cause: event.Cause });
    if (event.type === 'StateRetried' || event.type === 'StateCaught') {
      const failure = { state, ...lastError.get(where) };
      if (event.type === 'StateRetried') retries.push(failure);
      console.error(JSON.stringify({ event: event.type, ...failure }));
    }
  }
})();

let result;
try {
  result = { status: 'SUCCEEDED', output: await execution.result };
} catch (e) {
  if (!(e instanceof ExecutionError)) throw e;
  result = { status: 'FAILED', error: e.cause?.name, cause: e.cause?.message };
}
await history;
notePayload('execution input', sizeOf(JSON.parse(inputJson)));
console.log(JSON.stringify({ ...result, notifications, states, retries, payloads }));
