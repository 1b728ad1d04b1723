// Notes of a profile, paged both ways: Relay's usePaginationFragment loads more with `first`/`after`
// (loadNext) and earlier ones with `last`/`before` (loadPrevious) through the refetch query below.
import { graphql } from "react-relay";

export const UserNotes = graphql`
  fragment UserNotes_user on User
  @refetchable(queryName: "UserNotesPaginationQuery")
  @argumentDefinitions(
    first: { type: "Int" }
    after: { type: "String" }
    last: { type: "Int" }
    before: { type: "String" }
  ) {
    noteCount
    notes(first: $first, after: $after, last: $last, before: $before)
      @connection(key: "UserNotes_notes") {
      totalCount
      edges {
        node {
          id
          title
        }
      }
    }
  }
`;
