// The screen's query: a profile, a board and the following feed, each spreading its paginated fragment.
import { graphql } from "react-relay";

export const AppQuery = graphql`
  query AppQuery($handle: String!, $boardId: ID!) {
    user(handle: $handle) {
      ...UserNotes_user @arguments(last: 5)
    }
    board(id: $boardId) {
      ...BoardNotes_board
    }
    ...FollowingFeed_query
  }
`;
