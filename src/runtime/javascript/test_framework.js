// The test API of `modhost test` (SPEC section 14) for JavaScript and TypeScript test files:
// describe, it (and test), beforeEach, afterEach and expect. The host evaluates this script in
// the mod's engine before the test file, with the test file's name in `__modhostTestFile`, then
// awaits `__modhostRunTests(grep)`: one `{ name, passed, line, ms, message?, expected?,
// actual?, failureLine? }` per test.
(() => {
  const file = globalThis.__modhostTestFile;
  // Tells the host how far the run is, so a test that never ends is named.
  const progress = globalThis.__modhostTestProgress;
  delete globalThis.__modhostTestProgress;
  const scopes = [{ name: "", before: [], after: [] }];
  const tests = [];

  // The line in the test file of the innermost frame of `stack` that is in it.
  const lineIn = (stack) => {
    for (const frame of String(stack || "").split("\n")) {
      const match = frame.match(/([^()\s]+?):(\d+)(?::\d+)?\)?\s*$/);
      if (match && match[1] === file) return Number(match[2]);
    }
    return null;
  };
  const here = () => lineIn(new Error().stack);

  class ExpectationError extends Error {
    constructor(message, expected, actual) {
      super(message);
      this.name = "ExpectationError";
      this.expected = expected;
      this.actual = actual;
    }
  }

  const show = (value) => {
    if (value === undefined) return "undefined";
    if (typeof value === "function") return "[function]";
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  };

  const deepEqual = (a, b) => {
    if (Object.is(a, b)) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
  };

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: false, configurable: false, enumerable: false });

  define("describe", (name, body) => {
    scopes.push({ name: String(name), before: [], after: [] });
    try {
      body();
    } finally {
      scopes.pop();
    }
  });
  const it = (name, body) => {
    const path = scopes.slice(1).map((scope) => scope.name);
    tests.push({ name: [...path, String(name)].join(" > "), body, line: here(), scopes: scopes.slice() });
  };
  define("it", it);
  define("test", it);
  define("beforeEach", (hook) => scopes[scopes.length - 1].before.push(hook));
  define("afterEach", (hook) => scopes[scopes.length - 1].after.push(hook));

  define("expect", (actual) => {
    const fail = (message, expected) => {
      throw new ExpectationError(message, show(expected), show(actual));
    };
    return {
      toBe(expected) {
        if (!Object.is(actual, expected)) fail(`expected ${show(actual)} to be ${show(expected)}`, expected);
      },
      toEqual(expected) {
        if (!deepEqual(actual, expected)) fail(`expected ${show(actual)} to equal ${show(expected)}`, expected);
      },
      toBeTruthy() {
        if (!actual) fail(`expected ${show(actual)} to be truthy`, "a truthy value");
      },
      toThrow(text) {
        if (typeof actual !== "function") fail("expect(...).toThrow() needs a function to call", text);
        let error;
        let threw = false;
        try {
          actual();
        } catch (caught) {
          threw = true;
          error = caught;
        }
        const wanted = text === undefined ? "an error" : text;
        if (!threw) throw new ExpectationError(`expected the function to throw ${show(wanted)}`, show(wanted), "nothing thrown");
        const message = error && error.message !== undefined ? String(error.message) : String(error);
        if (text !== undefined && !message.includes(text)) {
          throw new ExpectationError(`expected the error ${show(message)} to contain ${show(text)}`, show(text), show(message));
        }
      },
    };
  });

  const failure = (result, error) => {
    result.passed = false;
    result.message = error && error.message !== undefined ? String(error.message) : String(error);
    if (error instanceof ExpectationError) {
      result.expected = error.expected;
      result.actual = error.actual;
    }
    const line = lineIn(error && error.stack);
    if (line !== null) result.failureLine = line;
  };

  define("__modhostRunTests", async (grep) => {
    const results = [];
    const selected = tests.filter((test) => !grep || test.name.includes(grep));
    progress("planned", selected.length);
    for (const test of selected) {
      progress("started", { name: test.name, line: test.line });
      const started = Date.now();
      const result = { name: test.name, passed: true, line: test.line };
      try {
        for (const scope of test.scopes) for (const hook of scope.before) await hook();
        await test.body();
      } catch (error) {
        failure(result, error);
      }
      try {
        for (const scope of [...test.scopes].reverse()) for (const hook of scope.after) await hook();
      } catch (error) {
        if (result.passed) failure(result, error);
      }
      result.ms = Date.now() - started;
      results.push(result);
      progress("finished", result);
    }
    return results;
  });
})();
