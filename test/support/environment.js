// The Jest environment of every suite: Node's, except that the unreferenced timers a test file
// leaves armed are cleared when the file ends. On two cores Jest runs every file inside its own
// process, one after another, and a file's modules stay in memory while anything still references
// them: an unreferenced timer does, until it fires. Key caches arm one per cached key for its TTL
// (five minutes by default), so each file that left a crypto unclosed kept its whole module graph
// (its generated Prisma client among it) for minutes: measured with --logHeapUsage --expose-gc,
// the heap after each file grew about 24 MB a file, past 1.2 GB within 60 SQLite suites. The
// product's own close paths (an extended client's $disconnect, the CLI's) clear their caches;
// this catches what tests leave open. Nothing of a file may run after the file ended.
'use strict';
const { TestEnvironment } = require('jest-environment-node');

class ClearingTimersEnvironment extends TestEnvironment {
  /** Timers the file armed that neither fired (timeouts) nor were cleared. */
  #armed = new Set();

  constructor(config, context) {
    super(config, context);
    this.#track('setTimeout', 'clearTimeout', true);
    this.#track('setInterval', 'clearInterval', false);
  }

  /** Wraps the file's `set`/`clear` pair so that its armed timers are known; `once`: a timeout. */
  #track(set, clear, once) {
    const global = this.global;
    const armed = this.#armed;
    const realSet = global[set];
    const realClear = global[clear];
    if (typeof realSet !== 'function' || typeof realClear !== 'function') return;
    const wrappedSet = function (callback, ...rest) {
      if (typeof callback !== 'function') return realSet(callback, ...rest);
      const timer = realSet(
        function (...args) {
          if (once) armed.delete(timer);
          return callback.apply(this, args);
        },
        ...rest,
      );
      armed.add(timer);
      return timer;
    };
    // util.promisify(setTimeout) reads a property of the function itself: keep every one.
    for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(realSet))) {
      if (key !== 'length' && key !== 'name' && key !== 'prototype') Object.defineProperty(wrappedSet, key, descriptor);
    }
    for (const symbol of Object.getOwnPropertySymbols(realSet)) {
      Object.defineProperty(wrappedSet, symbol, Object.getOwnPropertyDescriptor(realSet, symbol));
    }
    global[set] = wrappedSet;
    global[clear] = function (timer) {
      armed.delete(timer);
      return realClear(timer);
    };
  }

  async teardown() {
    // Unreferenced timers only: those are what keep memory without keeping the process alive (a
    // cache's expiry, a pool's sweep). A referenced one may free something when it fires (a
    // database pool closes its idle connections so), and Jest reports it as an open handle.
    for (const timer of this.#armed) if (typeof timer.hasRef !== 'function' || !timer.hasRef()) clearTimeout(timer);
    this.#armed.clear();
    await super.teardown();
  }
}

module.exports = ClearingTimersEnvironment;
