// A frontend built the way Apollo Client 4 documents it, without React: one ApolloClient whose link
// splits subscriptions to graphql-ws (GraphQLWsLink) and everything else to HttpLink, an InMemoryCache
// paging `User.notes` with relayStylePagination, and the token from signIn added by SetContextLink.
//
// Usage: node apollo_client.mjs '<spec JSON>'
//   spec = { http, ws, email, password, noteId, authorHandle, timeoutMs }
// Prints one JSON line per step ({"step": name, ...}), for tests/test_js_clients.py to assert on, then
// {"done": true}; exits 2 with {"timeout": true, "step": name} if timeoutMs passes first.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql, split } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const spec = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');
let step = 'start';
// A hang must fail fast, not stall the test run.
const timer = setTimeout(() => {
  say({ timeout: true, step });
  process.exit(2);
}, spec.timeoutMs ?? 20000);

function makeClient(getToken) {
  const auth = new SetContextLink((prevContext) => {
    const token = getToken();
    return token ? { headers: { ...prevContext.headers, authorization: `Bearer ${token}` } } : {};
  });
  const wsClient = createClient({
    url: spec.ws,
    webSocketImpl: WebSocket,
    // Read when the socket opens, so it carries the token signIn returned.
    connectionParams: () => (getToken() ? { Authorization: `Bearer ${getToken()}` } : {}),
    retryAttempts: 0,
  });
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    ApolloLink.from([auth, new HttpLink({ uri: spec.http })]),
  );
  const cache = new InMemoryCache({
    typePolicies: { User: { fields: { notes: relayStylePagination() } } },
  });
  return { client: new ApolloClient({ link, cache }), wsClient };
}

// The error as Apollo Client 4 hands it to the application, and the codes a frontend branches on.
function describe(error) {
  if (CombinedGraphQLErrors.is(error)) {
    return { kind: 'CombinedGraphQLErrors', codes: error.errors.map((e) => e.extensions?.code ?? null) };
  }
  if (ServerError.is(error)) {
    let codes = null;
    try {
      codes = JSON.parse(error.bodyText).errors.map((e) => e.extensions?.code ?? null);
    } catch {
      // a body that is not a GraphQL response: no codes to report
    }
    return { kind: 'ServerError', statusCode: error.statusCode, codes };
  }
  return { kind: error?.name ?? typeof error, message: String(error?.message ?? error) };
}

async function failure(run) {
  try {
    const result = await run();
    return { kind: 'no error', data: result.data ?? null };
  } catch (error) {
    return describe(error);
  }
}

// Everything an Apollo (rxjs) Observable emits, kept while the test reads it: `until(test)` resolves
// with the first value (seen so far or to come) that passes `test`.
function collect(observable) {
  const values = [];
  const waiters = [];
  const subscription = observable.subscribe({
    next: (value) => {
      values.push(value);
      for (const waiter of [...waiters]) waiter();
    },
  });
  const until = (test) =>
    new Promise((resolve) => {
      const waiter = () => {
        const found = values.find(test);
        if (found !== undefined) {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(found);
        }
      };
      waiters.push(waiter);
      waiter();
    });
  return { values, until, stop: () => subscription.unsubscribe() };
}

const SIGN_IN = gql`
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) { token user { id handle } errors { code } }
  }
`;
const NOTE = gql`
  query Note($id: ID!) { viewer { handle } note(id: $id) { id title likeCount viewerHasLiked } }
`;
const LIKE = gql`
  mutation Like($id: ID!) { noteLike(noteId: $id) { note { id likeCount viewerHasLiked } errors { code } } }
`;
const LIKES = gql`
  subscription Likes($id: ID!) { noteLikeCount(noteId: $id) { noteId likeCount } }
`;
const NOTES = gql`
  query AuthorNotes($handle: String!, $last: Int, $before: String) {
    user(handle: $handle) {
      id
      notes(last: $last, before: $before) {
        edges { cursor node { id title } }
        pageInfo { hasPreviousPage startCursor hasNextPage endCursor }
      }
    }
  }
`;

let token = null;
const { client, wsClient } = makeClient(() => token);

step = 'signIn';
const signedIn = await client.mutate({
  mutation: SIGN_IN,
  variables: { input: { email: spec.email, password: spec.password } },
});
token = signedIn.data.signIn.token;
say({ step, handle: signedIn.data.signIn.user.handle, errors: signedIn.data.signIn.errors });

step = 'query';
const read = await client.query({ query: NOTE, variables: { id: spec.noteId } });
say({ step, data: read.data });

step = 'subscription';
const likes = collect(client.subscribe({ query: LIKES, variables: { id: spec.noteId } }));
// The first event is the count now; the like below must produce a second one.
const now = await likes.until(() => true);
say({ step, event: now.data });

step = 'mutation';
const liked = await client.mutate({ mutation: LIKE, variables: { id: spec.noteId } });
say({ step, data: liked.data });
// The cache normalised the mutation's Note: the query above now reads the new count without a request.
const cached = client.readQuery({ query: NOTE, variables: { id: spec.noteId } });
say({ step: 'cache', data: cached });

step = 'subscription-update';
const update = await likes.until((value) => value !== now);
likes.stop();
say({ step, event: update.data });

step = 'paging';
// The last page of the author's notes, then the page before it with fetchMore (`last`/`before`).
const query = client.watchQuery({ query: NOTES, variables: { handle: spec.authorHandle, last: 2 } });
const paged = collect(query);
const complete = (value) => value.dataState === 'complete' && !value.loading;
const titles = (result) => result.data.user.notes.edges.map((edge) => edge.node.title);
const last = await paged.until(complete);
say({ step, titles: titles(last), pageInfo: last.data.user.notes.pageInfo });
await query.fetchMore({ variables: { last: 2, before: last.data.user.notes.pageInfo.startCursor } });
// relayStylePagination puts the earlier page in front: the list a frontend shows, in list order.
const merged = await paged.until((value) => complete(value) && value.data.user.notes.edges.length > 2);
paged.stop();
say({ step: 'paging-merged', titles: titles(merged), pageInfo: merged.data.user.notes.pageInfo });

step = 'errors';
// A validation error: the document names a field the schema does not have.
say({
  step: 'validation',
  error: await failure(() => client.query({ query: gql`query Broken { viewer { nope } }` })),
});
// A bad token: a second client, as after the token expired or was revoked.
const stale = makeClient(() => 'not-a-real-token');
say({
  step: 'bad-token',
  error: await failure(() => stale.client.query({ query: NOTE, variables: { id: spec.noteId } })),
});
// A coded error in a field: paging both ways at once.
say({
  step: 'field-error',
  error: await failure(() =>
    client.query({
      query: gql`query Both($h: String!) { user(handle: $h) { notes(first: 1, last: 1) { nodes { id } } } }`,
      variables: { h: spec.authorHandle },
    }),
  ),
});

clearTimeout(timer);
say({ done: true });
await wsClient.dispose();
await stale.wsClient.dispose();
process.exit(0);
