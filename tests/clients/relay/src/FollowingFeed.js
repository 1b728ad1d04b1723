// The following feed read from its newest end backwards: `last`/`before` only (loadPrevious).
import { graphql } from "react-relay";

export const FollowingFeed = graphql`
  fragment FollowingFeed_query on Query
  @refetchable(queryName: "FollowingFeedPaginationQuery")
  @argumentDefinitions(last: { type: "Int", defaultValue: 10 }, before: { type: "String" }) {
    followingFeed(last: $last, before: $before) @connection(key: "FollowingFeed_followingFeed") {
      edges {
        node {
          id
          title
          author {
            handle
          }
        }
      }
    }
  }
`;
