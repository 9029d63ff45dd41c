import { Type, type TSchema } from '@sinclair/typebox';

/** `{ error: { code, message } }`, the body of every error response. */
export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});

/** Standard error responses added to every route's schema. */
export const errorResponses = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody };

/** A page of items plus the cursor of the next page (keyset pagination). */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });
}

/** `:id` path parameter. */
export const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
