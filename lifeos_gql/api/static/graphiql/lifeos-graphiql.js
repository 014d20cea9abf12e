// Starts GraphiQL (with the explorer plugin) against this server's GraphQL
// endpoint. Settings come from data- attributes on #graphiql so the page needs
// no inline script. Everything is same-origin: HTTP for queries and
// mutations, WebSocket (graphql-transport-ws) for subscriptions.
(function () {
  "use strict";

  var EXAMPLE_QUERY =
    "# Welcome to the LifeOS GraphiQL.\n" +
    "#\n" +
    "# Sign in: open Headers below and add\n" +
    '#   {"Authorization": "Bearer <token>"}\n' +
    "# Subscriptions send these headers as\n" +
    "# connection parameters.\n" +
    "#\n" +
    "# Run: Ctrl-Enter   Complete: Ctrl-Space\n" +
    "\n" +
    "query Me {\n" +
    "  me {\n" +
    "    id\n" +
    "  }\n" +
    "}\n";

  var container = document.getElementById("graphiql");
  var endpoint = new URL(container.dataset.graphqlPath || "/graphql", window.location.href);
  endpoint.search = "";
  endpoint.hash = "";

  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

  // Query ("q") and variables are kept in the page URL so a link shares
  // them; headers are not, since they usually carry a token. Not "query":
  // a GET to the GraphQL endpoint with ?query= runs it instead of the page.
  var parameters = {};
  new URLSearchParams(window.location.search).forEach(function (value, key) {
    parameters[key] = value;
  });

  function updateURL(data) {
    Object.assign(parameters, data);
    var search = new URLSearchParams();
    Object.keys(parameters).forEach(function (key) {
      if (parameters[key]) {
        search.set(key, parameters[key]);
      }
    });
    var query = search.toString();
    history.replaceState(null, "", query ? "?" + query : window.location.pathname);
  }

  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    subscriptionUrl: socket.href,
  });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  function LifeOSGraphiQL() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: EXAMPLE_QUERY,
      query: parameters.q,
      variables: parameters.variables,
      onEditQuery: function (query) {
        updateURL({ q: query });
      },
      onEditVariables: function (variables) {
        updateURL({ variables: variables });
      },
      defaultEditorToolsVisibility: true,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(container).render(React.createElement(LifeOSGraphiQL));
})();
