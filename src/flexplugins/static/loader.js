/* flexplugins runtime loader: loads the plugins of the active release into a host page.
 *
 *   <script src="https://plugins.example.com/flexplugins/v1/Runtime/loader.js"></script>
 *   <script>
 *     FlexPluginsLoader.load({
 *       manifestUrl: "https://plugins.example.com/flexplugins/v1/Runtime/Manifest",
 *       token: "SK...:secret",            // a runtime token (or API key) as "sid:secret"
 *     }).then(function (result) { console.log(result.loaded, result.failed); });
 *   </script>
 *
 * Bundles are downloaded in parallel and run one after the other in the manifest's order. Each
 * bundle with an integrity value is checked against it (Subresource Integrity). A bundle that
 * fails to download, fails its integrity check or throws while running is reported in `failed`;
 * the others still load. The promise never rejects for a bundle; it rejects only when the
 * manifest itself cannot be read.
 */
(function (global) {
  "use strict";

  function authorization(token) {
    if (!token) return null;
    if (typeof token === "object") token = token.username + ":" + token.password;
    if (/^(Basic|Bearer) /.test(token)) return token;
    return "Basic " + global.btoa(token);
  }

  function sameOrigin(a, b) {
    try {
      return new URL(a, global.location.href).origin === new URL(b, global.location.href).origin;
    } catch (e) {
      return false;
    }
  }

  function describe(error) {
    if (!error) return "unknown error";
    return error.message || String(error);
  }

  // Private bundles need the token, which a <script src> cannot send: they are fetched (with the
  // integrity check done by fetch) and run from a blob: URL. The token only goes to the
  // manifest's own origin.
  function prefetch(plugin, options, auth) {
    var init = { mode: "cors", credentials: "omit", cache: "default", headers: {} };
    if (plugin.integrity) init.integrity = plugin.integrity;
    if (auth && sameOrigin(plugin.plugin_url, options.manifestUrl)) init.headers.Authorization = auth;
    return global.fetch(plugin.plugin_url, init).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status + " for " + plugin.plugin_url);
      return response.blob();
    }).then(function (blob) {
      return global.URL.createObjectURL(new Blob([blob], { type: "text/javascript" }));
    });
  }

  // Public bundles load with a plain <script>; a preload starts every download at once.
  function preload(plugin) {
    var link = global.document.createElement("link");
    link.rel = "preload";
    link.as = "script";
    link.href = plugin.plugin_url;
    if (plugin.integrity) {
      link.integrity = plugin.integrity;
      link.crossOrigin = "anonymous";
    }
    global.document.head.appendChild(link);
  }

  function run(src, plugin, integrity) {
    return new Promise(function (resolve) {
      var script = global.document.createElement("script");
      var thrown = null;
      function onError(event) {
        if (event.filename === src) thrown = event.message || "the bundle threw an error";
      }
      function done(error) {
        global.removeEventListener("error", onError);
        resolve(error || thrown);
      }
      global.addEventListener("error", onError);
      script.async = false;
      script.dataset.flexPlugin = plugin.unique_name;
      if (integrity) {
        script.integrity = integrity;
        script.crossOrigin = "anonymous";
      }
      script.onload = function () { done(null); };
      script.onerror = function () {
        done(integrity ? "the bundle could not be loaded or failed its integrity check"
                       : "the bundle could not be loaded");
      };
      script.src = src;
      global.document.head.appendChild(script);
    });
  }

  function load(options) {
    if (!options || !options.manifestUrl) return Promise.reject(new Error("manifestUrl is required"));
    var auth = authorization(options.token);
    var headers = { Accept: "application/json" };
    if (auth) headers.Authorization = auth;
    // no-cache: revalidate with the ETag every time, so a new release is picked up at once.
    return global.fetch(options.manifestUrl, { headers: headers, cache: "no-cache", credentials: "omit" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var error = new Error((body && body.message) || "HTTP " + response.status);
            error.status = response.status;
            error.body = body;
            throw error;
          }
          return body;
        });
      })
      .then(function (manifest) {
        var plugins = manifest.plugins || [];
        var pending = plugins.map(function (plugin) {
          if (plugin.private) return prefetch(plugin, options, auth);
          preload(plugin);
          return Promise.resolve(null);
        });
        var result = {
          release_sid: manifest.release_sid,
          configuration_sid: manifest.configuration_sid,
          loaded: [],
          failed: [],
        };
        var chain = Promise.resolve();
        plugins.forEach(function (plugin, index) {
          chain = chain.then(function () {
            return pending[index].then(function (blobUrl) {
              return blobUrl ? run(blobUrl, plugin, null) : run(plugin.plugin_url, plugin, plugin.integrity);
            }, function (error) {
              return describe(error);
            }).then(function (error) {
              var entry = { unique_name: plugin.unique_name, version: plugin.version, url: plugin.plugin_url };
              if (error) {
                entry.error = String(error);
                result.failed.push(entry);
              } else {
                result.loaded.push(entry);
              }
            });
          });
        });
        return chain.then(function () {
          global.dispatchEvent(new CustomEvent("flexplugins:loaded", { detail: result }));
          return result;
        });
      });
  }

  global.FlexPluginsLoader = { load: load, version: "1" };
})(window);
