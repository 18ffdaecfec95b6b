// "Make this page live": the saved widgets of a page become real widgets run by a kernel.
//
// _ext/live_pages.py adds this file (copied to vendor/live/ by scripts/vendor_js.py) to
// every page that shows saved ipywidgets, with the page's plan as JSON in
// <script id="llm-live-config">: the code cells up to the last widget, with the widget views
// each one displayed, the kernel's name, the notebook's path and the Binder repository.
//
// Until the page is live, the saved widgets are a picture: drawn disabled (the extension
// saved them so), inert (no pointer, no keyboard focus) and captioned, with the button that
// makes the page live above each one. Pressing it
//
// 1. loads Thebe (vendor/thebe/index.js, served by this site) and its thebe-core API;
// 2. connects to a Jupyter server: the one on this computer that scripts/serve_live.py
//    started, if the page was opened with ?jupyter=<its address>&token=<its token> (kept in
//    localStorage for the site's other pages; only 127.0.0.1, localhost and [::1] are
//    accepted), else a new one from mybinder.org for the book's repository;
// 3. starts a kernel for the chapter and runs the cells in order, saying which one runs;
// 4. puts each widget cell's real output in place of its saved picture, all at once when
//    every cell has run: until then nothing on the page can be moved.
//
// Failures leave the saved pictures in place and say what happened (server unreachable,
// token refused, a cell that raised). A kernel that restarts (it forgot the chapter's
// variables, so its widgets would do nothing) greys the live widgets out and runs the cells
// again; a kernel that dies or a server that goes away brings the saved pictures back.
//
// Offline: nothing is requested before the button is pressed, and Thebe's own requests for
// require.js (a CDN address written into Thebe) are answered from this site.
(function () {
  "use strict";

  const configElement = document.getElementById("llm-live-config");
  if (!configElement || !document.currentScript) {
    return;
  }
  const page = JSON.parse(configElement.textContent);
  const vendor = new URL("../", document.currentScript.src); // .../vendor/
  const THEBE_URL = new URL("thebe/index.js", vendor).href;
  const REQUIREJS_URL = new URL("requirejs/require.js", vendor).href;
  // Thebe fetches require.js for the widget manager from this address (requireJsLoader.ts).
  const THEBE_REQUIREJS_CDN =
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js";
  const STORAGE_KEY = "llm-mysteries-jupyter-server";
  const VIEW_TYPE = "application/vnd.jupyter.widget-view+json";
  const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
  const CONNECT_TIMEOUT_MS = 20000; // a server on this computer answers at once or never
  const KERNEL_TIMEOUT_MS = 120000;
  // How often a live page asks its kernel who it is, to notice a restart that sent nothing.
  const SESSION_CHECK_MS = 2000;

  // ---- Which Jupyter server: this computer's (serve_live.py) or mybinder.org ----------

  let addressNote = "";

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null; // storage disabled: the address works for this page only
    }
  }

  function readLocalServer() {
    const params = new URLSearchParams(window.location.search);
    let fromAddress = null;
    if (params.has("jupyter")) {
      const given = params.get("jupyter");
      if (given === "" || given === "binder") {
        storage()?.removeItem(STORAGE_KEY);
      } else {
        let url = null;
        try {
          url = new URL(given);
        } catch (error) {
          url = null;
        }
        if (url && /^https?:$/.test(url.protocol) && LOOPBACK.has(url.hostname)) {
          const baseUrl = url.origin + url.pathname.replace(/\/?$/, "/");
          fromAddress = { baseUrl: baseUrl, token: params.get("token") || "" };
          storage()?.setItem(STORAGE_KEY, JSON.stringify(fromAddress));
        } else {
          addressNote =
            `Ignored jupyter=${given}: only a Jupyter server on this computer ` +
            "(127.0.0.1 or localhost) can be named in the address. ";
        }
      }
      // Take the token out of the address bar (and out of bookmarks and shared links).
      params.delete("jupyter");
      params.delete("token");
      const query = params.toString();
      window.history.replaceState(
        window.history.state,
        "",
        window.location.pathname + (query ? "?" + query : "") + window.location.hash
      );
    }
    if (fromAddress) {
      return fromAddress;
    }
    try {
      const stored = JSON.parse(storage()?.getItem(STORAGE_KEY) || "null");
      if (stored && LOOPBACK.has(new URL(stored.baseUrl).hostname)) {
        return { baseUrl: stored.baseUrl, token: stored.token || "" };
      }
    } catch (error) {
      storage()?.removeItem(STORAGE_KEY);
    }
    return null;
  }

  const localServer = readLocalServer();
  const binder = page.binder && page.binder.repo ? page.binder : null;
  const serverName = localServer
    ? `the Jupyter server on this computer (${new URL(localServer.baseUrl).host})`
    : binder
      ? new URL(binder.binderUrl).host
      : "";

  // ---- The saved widgets, their bars and the page's state ----------------------------

  const outputs = []; // {cell: index in page.cells, saved: element, holder: element|null}
  const viewScripts = Array.from(document.querySelectorAll(`script[type="${VIEW_TYPE}"]`));
  page.cells.forEach(function (cell, index) {
    cell.views.forEach(function (modelId) {
      const script = viewScripts.find(function (s) {
        try {
          return JSON.parse(s.textContent).model_id === modelId;
        } catch (error) {
          return false;
        }
      });
      if (!script) {
        return; // the cell's output is not on the page (a removed output)
      }
      const saved = script.closest(".cell_output") || script.parentElement;
      if (!outputs.some((o) => o.saved === saved)) {
        outputs.push({ cell: index, saved: saved, holder: null });
      }
    });
  });
  if (!outputs.length) {
    return;
  }

  const bars = [];
  const SAVED_TEXT = binder || localServer
    ? "Saved picture: these controls do nothing yet. Press “Make this page live” to " +
      `play: the chapter's code then runs in a Python kernel from ${serverName}` +
      (localServer ? "." : " (free; its first start can take a few minutes).")
    : "Saved picture: these controls do nothing here. To play with them, read the book " +
      "with python scripts/serve_live.py (see the README).";

  outputs.forEach(function (output) {
    output.saved.classList.add("llm-live-saved");
    output.saved.inert = true;
    const bar = document.createElement("div");
    bar.className = "llm-live-bar";
    bar.dataset.state = "saved";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "llm-live-button";
    button.textContent = "Make this page live";
    button.hidden = !(binder || localServer);
    button.addEventListener("click", makeLive);
    const status = document.createElement("span");
    status.className = "llm-live-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    bar.append(button, status);
    output.saved.before(bar);
    bars.push({ bar: bar, button: button, status: status });
  });

  // state: saved | starting | live | restarting | failed
  function show(state, message, buttonText) {
    bars.forEach(function (b) {
      b.bar.dataset.state = state;
      b.status.textContent = message;
      b.button.disabled = state === "starting" || state === "restarting";
      b.button.hidden = state === "live" || !(binder || localServer);
      if (buttonText) {
        b.button.textContent = buttonText;
      }
    });
  }

  show("saved", addressNote + SAVED_TEXT);

  function showSaved() {
    outputs.forEach(function (output) {
      output.saved.hidden = false;
      if (output.holder) {
        output.holder.hidden = true;
      }
    });
  }

  function showLive() {
    outputs.forEach(function (output) {
      output.holder.inert = false;
      output.holder.classList.remove("llm-live-stale");
      output.holder.hidden = false;
      output.saved.hidden = true;
    });
  }

  function greyOutLive() {
    outputs.forEach(function (output) {
      if (output.holder) {
        output.holder.inert = true;
        output.holder.classList.add("llm-live-stale");
      }
    });
  }

  // ---- Loading Thebe, offline --------------------------------------------------------

  let thebeLoaded = null;
  let fetchPatched = false;

  function loadThebe() {
    if (!fetchPatched) {
      fetchPatched = true;
      const originalFetch = window.fetch.bind(window);
      window.fetch = function (input, init) {
        const url = typeof input === "string" ? input : input && input.url;
        return originalFetch(url === THEBE_REQUIREJS_CDN ? REQUIREJS_URL : input, init);
      };
    }
    if (!thebeLoaded) {
      thebeLoaded = new Promise(function (resolve, reject) {
        const script = document.createElement("script");
        script.src = THEBE_URL;
        script.async = true;
        script.onload = function () {
          if (window.thebeCore && window.thebeCore.api) {
            resolve(window.thebeCore);
          } else {
            reject(new Error("Thebe loaded but did not set up window.thebeCore"));
          }
        };
        script.onerror = function () {
          reject(new Error(`could not load Thebe from ${THEBE_URL}`));
        };
        document.head.append(script);
      });
      thebeLoaded.catch(function () {
        thebeLoaded = null; // let "Try again" load it again
      });
    }
    return thebeLoaded;
  }

  // ---- Connecting, running the cells, watching the kernel ----------------------------

  class LiveError extends Error {}

  function withTimeout(promise, ms, message) {
    let timer;
    const timeout = new Promise(function (resolve, reject) {
      timer = window.setTimeout(function () {
        reject(new LiveError(message));
      }, ms);
    });
    return Promise.race([promise, timeout]).finally(function () {
      window.clearTimeout(timer);
    });
  }

  // A direct look at the local server first, for a message that says what is wrong. A
  // server that refuses the token answers without the headers that let this page read the
  // answer, as does one that allows another origin: both fail like an unreachable server,
  // except to an opaque request, which reaches a server whatever it allows.
  async function checkLocalServer() {
    const url = localServer.baseUrl + "api/status";
    const headers = localServer.token ? { Authorization: `token ${localServer.token}` } : {};
    try {
      const response = await withTimeout(
        fetch(url, { headers: headers, cache: "no-store" }),
        CONNECT_TIMEOUT_MS,
        "no answer"
      );
      if (response.ok) {
        return;
      }
    } catch (error) {
      // unreachable, or refused: the opaque request below tells which
    }
    let reachable = false;
    try {
      await withTimeout(
        fetch(url, { mode: "no-cors", cache: "no-store" }),
        CONNECT_TIMEOUT_MS,
        "no answer"
      );
      reachable = true;
    } catch (error) {
      reachable = false;
    }
    if (!reachable) {
      throw new LiveError(
        `Could not reach the Jupyter server at ${localServer.baseUrl}. Is ` +
          "python scripts/serve_live.py still running? Open the address it prints (its " +
          "port and token change with every start)."
      );
    }
    throw new LiveError(
      `The Jupyter server at ${localServer.baseUrl} refused this page (a token of an ` +
        "earlier start, or the book served from another address): open the address that " +
        "python scripts/serve_live.py printed when it started."
    );
  }

  function errorText(error) {
    if (!error) {
      return "unknown error";
    }
    if (typeof error === "string") {
      return error;
    }
    return error.message || String(error);
  }

  let live = null; // {core, server, session, kernel, cells}
  let busy = false;
  let generation = 0; // bumped whenever a kernel is dropped: stale callbacks then do nothing

  async function connect(core) {
    const events = core.api.makeEvents();
    const options = {
      kernelOptions: { kernelName: page.kernelName, path: page.path },
      // No MathJax 2 from a CDN: the widgets typeset with the page's MathJax 3.
      mathjaxUrl: "",
      mathjaxConfig: "",
    };
    if (localServer) {
      options.serverSettings = {
        baseUrl: localServer.baseUrl,
        wsUrl: localServer.baseUrl.replace(/^http/, "ws"),
        token: localServer.token,
        appendToken: true,
      };
    } else {
      options.binderOptions = binder;
      events.on("status", function (name, data) {
        if (busy && data && data.subject === "server" && data.message) {
          show("starting", `Asking ${serverName} for a Python kernel: ${data.message}`);
        }
      });
    }
    const config = core.api.makeConfiguration(options, events);
    let server;
    if (localServer) {
      show("starting", `Connecting to ${serverName}…`);
      await checkLocalServer();
      server = core.api.connectToJupyter(config);
      await withTimeout(server.ready, CONNECT_TIMEOUT_MS, `${serverName} did not answer.`);
    } else {
      show(
        "starting",
        `Asking ${serverName} for a Python kernel (its first start can take a few minutes)…`
      );
      server = core.api.connectToBinder(config);
      try {
        await server.ready;
      } catch (error) {
        throw new LiveError(
          `${serverName} did not give a kernel (${errorText(error).split("\n")[0]}). It may ` +
            "be busy or out of reach: try again later, or read the book live on your own " +
            "computer with python scripts/serve_live.py (see the book's README)."
        );
      }
    }
    return { config: config, server: server };
  }

  async function startKernel(core, config, server) {
    show("starting", "Starting a Python kernel…");
    const rendermime = core.api.makeRenderMimeRegistry({ mathjaxUrl: "", mathjaxConfig: "" });
    const session = await withTimeout(
      // A path of its own for every page opened, in the notebook's folder: the kernel starts
      // there, and two tabs of one chapter get two kernels (a server gives one session per
      // path), so closing one tab does not end the other's kernel.
      server.startNewSession(rendermime, {
        kernelName: page.kernelName,
        path: page.path.replace(/\.ipynb$/, `.live-${Math.random().toString(36).slice(2, 8)}`),
      }),
      KERNEL_TIMEOUT_MS,
      "The kernel did not start."
    );
    if (!session || !session.kernel) {
      throw new LiveError("The server did not start a kernel.");
    }
    await withTimeout(session.kernel.info, KERNEL_TIMEOUT_MS, "The kernel did not start.");
    const notebook = core.api.setupNotebookFromBlocks(
      page.cells.map(function (cell, index) {
        return { id: `llm-live-cell-${index}`, source: cell.source };
      }),
      config,
      rendermime
    );
    notebook.attachSession(session);
    outputs.forEach(function (output) {
      if (!output.holder) {
        output.holder = document.createElement("div");
        output.holder.className = "llm-live-output cell_output";
        output.holder.hidden = true;
        output.saved.after(output.holder);
      }
      output.holder.textContent = "";
      notebook.cells[output.cell].attachToDOM(output.holder);
    });
    return { session: session, kernel: session.kernel, cells: notebook.cells };
  }

  async function runCells(cells, state, what) {
    for (let i = 0; i < cells.length; i++) {
      show(state, `${what} ${i + 1} of ${cells.length}…`);
      const result = await cells[i].execute();
      if (!result) {
        throw new LiveError(`Cell ${i + 1} of ${cells.length} could not run.`);
      }
      if (result.error && result.error.length) {
        const e = result.error[0];
        throw new LiveError(
          `The chapter's code stopped at cell ${i + 1} of ${cells.length}: ` +
            `${e.ename}: ${e.evalue}`
        );
      }
    }
  }

  function liveMessage() {
    return `Live: the controls run the chapter's code in a Python kernel from ${serverName}.`;
  }

  function dropKernel(message) {
    generation += 1;
    const old = live;
    live = null;
    showSaved();
    show("failed", message, "Make this page live again");
    if (old && old.session) {
      old.session.shutdown().catch(function () {});
    }
  }

  function waitUntilIdle(kernel, ms) {
    return withTimeout(
      new Promise(function (resolve) {
        function check() {
          if (kernel.connectionStatus === "connected" && kernel.status === "idle") {
            kernel.statusChanged.disconnect(check);
            kernel.connectionStatusChanged.disconnect(check);
            resolve();
          }
        }
        kernel.statusChanged.connect(check);
        kernel.connectionStatusChanged.connect(check);
        check();
      }),
      ms,
      "The restarted kernel did not become ready."
    );
  }

  async function rerunAfterRestart(mine) {
    busy = true;
    try {
      await waitUntilIdle(live.kernel, KERNEL_TIMEOUT_MS);
      await runCells(
        live.cells,
        "restarting",
        "The kernel restarted and forgot the chapter's variables; until its code has run " +
          "again the controls are paused. Running cell"
      );
      if (mine === generation) {
        showLive();
        show("live", liveMessage());
      }
    } catch (error) {
      if (mine === generation) {
        dropKernel(
          `After the kernel restarted, running the chapter's code again failed: ` +
            `${errorText(error)} The saved pictures are back.`
        );
      }
    } finally {
      busy = false;
    }
  }

  // A restart is seen three ways: the server says so (an automatic restart after a crash),
  // the kernel says "starting", or, when both were missed (a restart asked for through the
  // server's REST API is not announced, and the kernel's first messages can be lost before
  // the page's connection listens again), a message arrives from a kernel process with
  // another session id than before. So that such a message always comes, a live page asks
  // its kernel for its details every SESSION_CHECK_MS; the answer carries the session id.
  function watch(kernel) {
    const mine = generation;
    let restarting = false;
    let kernelSession = null;
    let asking = false;

    function noteSession(session) {
      if (!session) {
        return;
      }
      const changed = kernelSession !== null && session !== kernelSession;
      kernelSession = session;
      if (changed) {
        restarted();
      }
    }

    const check = setInterval(function () {
      if (mine !== generation) {
        clearInterval(check);
        return;
      }
      if (asking || restarting || !live || !live.running) {
        return;
      }
      if (kernel.isDisposed || kernel.connectionStatus !== "connected") {
        return;
      }
      asking = true;
      withTimeout(kernel.requestKernelInfo(), CONNECT_TIMEOUT_MS, "no answer")
        .then(function (reply) {
          if (mine === generation) {
            noteSession(reply && reply.header && reply.header.session);
          }
        })
        .catch(function () {})
        .finally(function () {
          asking = false;
        });
    }, SESSION_CHECK_MS);

    function restarted() {
      if (mine !== generation || restarting) {
        return;
      }
      if (!live || !live.running) {
        dropKernel(
          "The kernel restarted while the chapter's code was running. The saved " +
            "pictures stay as they are."
        );
        return;
      }
      restarting = true;
      greyOutLive();
      show(
        "restarting",
        "The kernel restarted and forgot the chapter's variables, so the controls are " +
          "paused while the chapter's code runs again…"
      );
      rerunAfterRestart(mine).finally(function () {
        restarting = false;
      });
    }

    kernel.iopubMessage.connect(function (_, message) {
      noteSession(message && message.header && message.header.session);
    });
    kernel.statusChanged.connect(function (_, status) {
      if (mine !== generation) {
        return;
      }
      if (status === "restarting" || status === "autorestarting" || status === "starting") {
        restarted();
      } else if (status === "dead") {
        dropKernel("The kernel stopped. The saved pictures are back.");
      }
    });
    kernel.connectionStatusChanged.connect(function (_, status) {
      if (mine !== generation || restarting || !live || !live.running) {
        return;
      }
      if (status === "connecting") {
        greyOutLive();
        show("restarting", `Lost the connection to ${serverName}: reconnecting…`);
      } else if (status === "connected") {
        showLive();
        show("live", liveMessage());
      } else if (status === "disconnected") {
        dropKernel(`Lost the connection to ${serverName}. The saved pictures are back.`);
      }
    });
  }

  async function makeLive() {
    if (busy) {
      return;
    }
    busy = true;
    generation += 1;
    const mine = generation;
    const started = performance.now();
    show("starting", "Loading Thebe…");
    try {
      const core = await loadThebe();
      const { config, server } = await connect(core);
      const kernel = await startKernel(core, config, server);
      live = { core: core, server: server, running: false, ...kernel };
      // Which kernel this page uses, and below how long it took: for readers who wonder,
      // and for the browser tests.
      document.documentElement.dataset.liveKernel = kernel.kernel.id;
      watch(kernel.kernel);
      await runCells(kernel.cells, "starting", "Running the chapter's code: cell");
      if (mine !== generation) {
        return;
      }
      live.running = true;
      showLive();
      show("live", liveMessage());
      document.documentElement.dataset.liveSeconds = (
        (performance.now() - started) /
        1000
      ).toFixed(1);
    } catch (error) {
      if (mine === generation) {
        const message =
          error instanceof LiveError
            ? error.message
            : `Could not make the page live: ${errorText(error)}`;
        dropKernel(`${message} The saved pictures stay as they are.`);
        bars.forEach(function (b) {
          b.button.textContent = "Try again";
        });
      }
    } finally {
      busy = false;
    }
  }

  // Leaving the page ends its kernel (a server also ends idle kernels after a while).
  window.addEventListener("pagehide", function () {
    if (live && live.session) {
      live.session.shutdown().catch(function () {});
    }
  });
})();
